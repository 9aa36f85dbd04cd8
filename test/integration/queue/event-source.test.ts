import { createHash } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localSqsClient } from '../../../local/sqs/client.js';
import { startEventSource } from '../../../local/sqs/event-source.js';
import type { EventSource, EventSourceOptions, SqsBatchHandler } from '../../../local/sqs/event-source.js';
import { startLocalSqs } from '../../../local/sqs/fauxqs.js';
import type { LocalSqs } from '../../../local/sqs/fauxqs.js';

let sqs: LocalSqs;
let client: SQSClient;
let source: EventSource | undefined;

beforeEach(async () => {
  sqs = await startLocalSqs();
  client = localSqsClient(sqs.endpoint);
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
  client.destroy();
  await sqs.close();
});

/** Sends `bodies` to the (standard) binding queue, 10 a call. */
async function send(bodies: string[], options: { delaySeconds?: number } = {}) {
  for (let start = 0; start < bodies.length; start += 10) {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.queueUrl,
        Entries: bodies.slice(start, start + 10).map((body, i) => ({
          Id: String(i),
          MessageBody: body,
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
          ...(options.delaySeconds === undefined ? {} : { DelaySeconds: options.delaySeconds }),
        })),
      }),
    );
  }
}

const bodiesOf = (count: number, prefix = 'm') => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

const start = (handler: SqsBatchHandler, options: Partial<EventSourceOptions> = {}) =>
  (source = startEventSource({
    endpoint: sqs.endpoint,
    queueUrl: sqs.queueUrl,
    handler,
    visibilityTimeoutSeconds: 1,
    waitTimeSeconds: 1,
    ...options,
  }));

describe('startEventSource (Lambda SQS event source mapping over fauxqs)', () => {
  it('hands the handler real-shaped SQS events and deletes what succeeded', async () => {
    const events: SQSEvent[] = [];
    await send(['a', 'b', 'c']);
    const es = start(async (event) => {
      events.push(event);
    });
    await es.drained();
    const records = events.flatMap((e) => e.Records);
    expect(records.map((r) => r.body).sort()).toEqual(['a', 'b', 'c']);
    const record = records.find((r) => r.body === 'a')!;
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: sqs.queueArn,
      awsRegion: sqs.queueArn.split(':')[3],
      md5OfBody: createHash('md5').update('a').digest('hex'),
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { kind: { dataType: 'String', stringValue: 'test' } },
    });
    // A standard queue: no FIFO attributes.
    expect(record.attributes).not.toHaveProperty('MessageGroupId');
    expect(record.attributes).not.toHaveProperty('SequenceNumber');
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(record.messageId).not.toBe('');
    expect(record.receiptHandle).not.toBe('');
    expect(es.stats()).toMatchObject({ received: 3, deleted: 3, failed: 0, handlerErrors: 0, inFlight: 0 });
  });

  it('keeps batches within batchSize and runs up to `concurrency` invocations at once', async () => {
    await send(bodiesOf(24));
    const sizes: number[] = [];
    let active = 0;
    let peak = 0;
    const es = start(
      async (event) => {
        sizes.push(event.Records.length);
        active += 1;
        peak = Math.max(peak, active);
        // Hold the batch until three run at once (or give up), so the peak is observed, not guessed.
        for (let i = 0; i < 100 && peak < 3; i++) await new Promise((r) => setTimeout(r, 20));
        active -= 1;
      },
      { batchSize: 4, concurrency: 3 },
    );
    await es.drained();
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(24);
    expect(peak).toBe(3);
  });

  it('redelivers only the messages listed in batchItemFailures, after the visibility timeout', async () => {
    await send(['ok-1', 'flaky', 'ok-2']);
    const seen: string[] = [];
    const es = start(async (event): Promise<SQSBatchResponse> => {
      seen.push(...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      const failures = event.Records.filter((r) => r.body === 'flaky' && r.attributes.ApproximateReceiveCount === '1');
      return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await es.drained();
    expect(seen.sort()).toEqual(['flaky#1', 'flaky#2', 'ok-1#1', 'ok-2#1']);
    expect(es.stats()).toMatchObject({ received: 4, deleted: 3, failed: 1 });
  });

  it('fails the whole batch when the handler throws or answers an unknown itemIdentifier', async () => {
    await send(['x', 'y']);
    const batches: string[][] = [];
    const errors: unknown[] = [];
    const es = start(
      async (event) => {
        batches.push(event.Records.map((r) => r.body).sort());
        if (batches.length === 1) throw new Error('crash');
        if (batches.length === 2) return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
        return { batchItemFailures: [] };
      },
      { onError: (error) => errors.push(error) },
    );
    await es.drained();
    expect(batches).toEqual([['x', 'y'], ['x', 'y'], ['x', 'y']]);
    expect(errors.map(String)).toEqual(['Error: crash', expect.stringMatching(/batchItemFailures Lambda would reject/)]);
    expect(es.stats()).toMatchObject({ received: 6, deleted: 2, failed: 4, handlerErrors: 2 });
  });

  it('lets the queue redrive a message that keeps failing to the dead-letter queue after maxReceiveCount', async () => {
    await send(['poison', 'fine']);
    const attempts: Record<string, number> = {};
    const es = start(async (event) => ({
      batchItemFailures: event.Records.filter((r) => {
        attempts[r.body] = (attempts[r.body] ?? 0) + 1;
        return r.body === 'poison';
      }).map((r) => ({ itemIdentifier: r.messageId })),
    }));
    await es.drained();
    expect(attempts).toEqual({ poison: sqs.config.maxReceiveCount, fine: 1 });
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, MaxNumberOfMessages: 10 }));
    expect(Messages.map((m) => m.Body)).toEqual(['poison']);
  }, 20_000);

  it('holds a message sent with DelaySeconds until the delay has passed (per-message delay, standard queue)', async () => {
    const sentAt = Date.now();
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: 'verify-later', DelaySeconds: 2 }));
    await send(['now']);
    const deliveredAfter: Record<string, number> = {};
    const es = start(async (event) => {
      for (const record of event.Records) deliveredAfter[record.body] = Date.now() - sentAt;
    });
    expect(await sqs.depth()).toMatchObject({ delayed: 1 });
    // drained() waits for delayed messages too.
    await es.drained();
    expect(deliveredAfter.now).toBeLessThan(1_500);
    expect(deliveredAfter['verify-later']).toBeGreaterThanOrEqual(1_900);
    expect(es.stats()).toMatchObject({ received: 2, deleted: 2 });
  });

  it('gathers more than 10 messages into one invocation within the batching window, as Lambda does', async () => {
    await send(bodiesOf(35));
    const sizes: number[] = [];
    const es = start(
      async (event) => {
        sizes.push(event.Records.length);
      },
      // Visibility above the window, as Lambda needs too: else gathered messages reappear mid-window.
      { batchSize: 100, maximumBatchingWindowSeconds: 1, visibilityTimeoutSeconds: 5 },
    );
    await es.drained();
    expect(sizes).toEqual([35]);
    expect(es.stats()).toMatchObject({ received: 35, deleted: 35, batches: 1 });
  });

  it('stops gathering at batchSize, and invokes a short batch once the window has elapsed', async () => {
    await send(bodiesOf(25));
    const batches: { size: number; at: number }[] = [];
    const startedAt = Date.now();
    const es = start(
      async (event) => {
        batches.push({ size: event.Records.length, at: Date.now() - startedAt });
      },
      { batchSize: 20, maximumBatchingWindowSeconds: 1, visibilityTimeoutSeconds: 5 },
    );
    await es.drained();
    expect(batches.map((batch) => batch.size)).toEqual([20, 5]);
    // The full batch did not wait for the window; the remaining 5 waited for it (about 1 s).
    expect(batches[0]?.at).toBeLessThan(900);
    expect((batches[1]?.at ?? 0) - (batches[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('gathers messages that arrive during the window into the same batch', async () => {
    const sizes: number[] = [];
    const es = start(
      async (event) => {
        sizes.push(event.Records.length);
      },
      { batchSize: 50, maximumBatchingWindowSeconds: 2, visibilityTimeoutSeconds: 5, waitTimeSeconds: 5 },
    );
    await send(bodiesOf(5, 'early'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await send(bodiesOf(15, 'late'));
    await es.drained();
    expect(sizes).toEqual([20]);
  });

  it('honours batchItemFailures in a gathered batch: only the failed messages come back', async () => {
    await send(bodiesOf(30));
    const receives: Record<string, number> = {};
    const es = start(
      async (event): Promise<SQSBatchResponse> => {
        for (const record of event.Records) receives[record.body] = (receives[record.body] ?? 0) + 1;
        const failing = event.Records.filter((r) => ['m3', 'm17', 'm29'].includes(r.body) && r.attributes.ApproximateReceiveCount === '1');
        return { batchItemFailures: failing.map((r) => ({ itemIdentifier: r.messageId })) };
      },
      { batchSize: 100, maximumBatchingWindowSeconds: 1, visibilityTimeoutSeconds: 2 },
    );
    await es.drained();
    expect(Object.keys(receives)).toHaveLength(30);
    expect(Object.entries(receives).filter(([, count]) => count > 1).map(([body]) => body).sort()).toEqual(['m17', 'm29', 'm3']);
    expect(es.stats()).toMatchObject({ received: 33, deleted: 30, failed: 3, batches: 2 });
  });

  it('without a window takes what the queue holds right now, up to a batchSize over 10', async () => {
    await send(bodiesOf(23));
    const sizes: number[] = [];
    const es = start(
      async (event) => {
        sizes.push(event.Records.length);
      },
      { batchSize: 100 },
    );
    await es.drained();
    expect(sizes).toEqual([23]);
  });

  it("refuses batch settings Lambda would refuse on a standard queue", () => {
    const handler = async () => undefined;
    const base = { endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, handler };
    expect(() => startEventSource({ ...base, batchSize: 10_001 })).toThrow(RangeError);
    expect(() => startEventSource({ ...base, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => startEventSource({ ...base, maximumBatchingWindowSeconds: 301 })).toThrow(/maximumBatchingWindowSeconds/);
  });

  it('stops promptly while a long poll is pending', async () => {
    const es = startEventSource({ endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, handler: async () => undefined, waitTimeSeconds: 20 });
    await new Promise((r) => setTimeout(r, 100));
    await es.stop();
    await expect(es.drained()).rejects.toThrow(/stopped/);
  }, 5_000);
});
