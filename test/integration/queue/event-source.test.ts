import { createHash } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
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

/** Sends `bodies` in order, each in its own group unless `group` is given. */
async function send(bodies: string[], group?: string) {
  for (let start = 0; start < bodies.length; start += 10) {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.queueUrl,
        Entries: bodies.slice(start, start + 10).map((body, i) => ({
          Id: String(i),
          MessageBody: body,
          MessageGroupId: group ?? `g-${body}`,
          MessageDeduplicationId: `d-${body}`,
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
        })),
      }),
    );
  }
}

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
      attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'g-a', MessageDeduplicationId: 'd-a' },
      messageAttributes: { kind: { dataType: 'String', stringValue: 'test' } },
    });
    expect(record.attributes.SequenceNumber).toMatch(/^\d+$/);
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(record.messageId).not.toBe('');
    expect(record.receiptHandle).not.toBe('');
    expect(es.stats()).toMatchObject({ received: 3, deleted: 3, failed: 0, handlerErrors: 0, inFlight: 0 });
  });

  it('keeps batches within batchSize and runs up to `concurrency` invocations at once', async () => {
    await send(Array.from({ length: 24 }, (_, i) => `m${i}`));
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

  it('stops promptly while a long poll is pending', async () => {
    const es = startEventSource({ endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, handler: async () => undefined, waitTimeSeconds: 20 });
    await new Promise((r) => setTimeout(r, 100));
    await es.stop();
    await expect(es.drained()).rejects.toThrow(/stopped/);
  }, 5_000);
});
