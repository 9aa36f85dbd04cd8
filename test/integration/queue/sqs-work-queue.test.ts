import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DeleteMessageCommand, ReceiveMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QueueUnavailableError, SqsWorkQueue, planWork, workMessageSchema } from '../../../lib/queue/index.js';
import type { QueuedWork } from '../../../lib/queue/index.js';
import { localSqsClient } from '../../../local/sqs/client.js';
import { startLocalSqs } from '../../../local/sqs/fauxqs.js';
import type { LocalSqs } from '../../../local/sqs/fauxqs.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const bindings = (n: number, prefix = 'tok') => Array.from({ length: n }, (_, i) => ({ token: `${prefix}-${i}`, account: `user-${i}` }));

/** Receives (and deletes) everything currently in the queue, in delivery order. */
async function drain(client: SQSClient, queueUrl: string) {
  const received: { groupId: string; body: unknown }[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageGroupId'] }),
    );
    if (Messages.length === 0) return received;
    for (const message of Messages) {
      received.push({ groupId: message.Attributes?.MessageGroupId ?? '', body: JSON.parse(message.Body ?? 'null') });
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

describe('SqsWorkQueue against fauxqs', () => {
  let sqs: LocalSqs;
  let client: SQSClient;
  let queue: SqsWorkQueue;
  beforeAll(async () => {
    sqs = await startLocalSqs();
    client = localSqsClient(sqs.endpoint);
  });
  afterAll(async () => {
    client.destroy();
    await sqs.close();
  });
  beforeEach(() => {
    queue = new SqsWorkQueue({ queueUrl: sqs.queueUrl, endpoint: sqs.endpoint, credentials, entryRetry: { retries: 5, minDelayMs: 300 } });
  });
  afterEach(async () => {
    await client.send(new SetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, Attributes: { MaximumMessageSize: '1048576' } }));
    await drain(client, sqs.queueUrl);
  });

  it('queues 1 000 planned bindings as 50 schema-valid messages with their groups', async () => {
    const work = planWork({ kind: 'bind', platform: 'android', items: bindings(1000) }, { correlationId: 'bulk-1' });
    await queue.enqueue(work);
    const received = await drain(client, sqs.queueUrl);
    expect(received).toHaveLength(50);
    expect(new Set(received.map((r) => r.groupId))).toEqual(new Set(work.map((w) => w.groupId)));
    const tokens = received.flatMap((r) => {
      const parsed = workMessageSchema.parse(r.body);
      return parsed.kind === 'bind' ? parsed.items.map((i) => i.token) : [];
    });
    expect(new Set(tokens).size).toBe(1000);
  });

  it('keeps the order of messages of one group, and deduplicates a re-sent request', async () => {
    const meta = (id: string) => ({ correlationId: id });
    const work: QueuedWork[] = [
      ...planWork({ kind: 'bind', platform: 'ios', items: [{ token: 'shared', account: 'alice' }] }, meta('a')),
      ...planWork({ kind: 'bind', platform: 'ios', items: bindings(30, 'other') }, meta('b')),
      ...planWork({ kind: 'unbind-tokens', platform: 'ios', tokens: ['shared'] }, meta('c')),
      ...planWork({ kind: 'bind', platform: 'ios', items: [{ token: 'shared', account: 'bob' }] }, meta('d')),
    ];
    await queue.enqueue(work);
    await queue.enqueue(work); // a retried request: same dedup ids
    const received = await drain(client, sqs.queueUrl);
    expect(received).toHaveLength(work.length);
    const shared = received.filter((r) => r.groupId === 't:shared').map((r) => workMessageSchema.parse(r.body).correlationId);
    expect(shared).toEqual(['a', 'c', 'd']);
  });

  it('retries the entries SQS refused until they are accepted', async () => {
    // fauxqs refuses, per entry, a message larger than the queue's MaximumMessageSize: the
    // 20-item chunks (> 1 KiB) fail while single-token messages go through.
    await client.send(new SetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, Attributes: { MaximumMessageSize: '1024' } }));
    const big = planWork({ kind: 'bind', platform: 'android', items: bindings(40).map((b) => ({ ...b, account: b.account.padEnd(60, 'x') })) }, { correlationId: 'big' });
    const small = planWork({ kind: 'bind', platform: 'android', items: [{ token: 'solo', account: 'carol' }] }, { correlationId: 'small' });
    expect(big.every((w) => JSON.stringify(w.message).length > 1024)).toBe(true);

    const enqueued = queue.enqueue([...big, ...small]);
    // Once the first attempt has landed the small message, make room: the retry must take the rest.
    for (let depth = await sqs.depth(); depth.queued === 0; depth = await sqs.depth()) await new Promise((r) => setTimeout(r, 10));
    await client.send(new SetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, Attributes: { MaximumMessageSize: '1048576' } }));
    await enqueued;

    const received = await drain(client, sqs.queueUrl);
    expect(received.map((r) => r.groupId).sort()).toEqual([...big, ...small].map((w) => w.groupId).sort());
  });

  it('throws QueueUnavailableError naming the refusal when entries keep being refused', async () => {
    await client.send(new SetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, Attributes: { MaximumMessageSize: '1024' } }));
    const quick = new SqsWorkQueue({ queueUrl: sqs.queueUrl, endpoint: sqs.endpoint, credentials, entryRetry: { retries: 2, minDelayMs: 10 } });
    const big = planWork({ kind: 'bind', platform: 'android', items: bindings(20).map((b) => ({ ...b, account: b.account.padEnd(60, 'x') })) }, { correlationId: 'big2' });
    const error = await quick.enqueue(big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueUnavailableError);
    expect((error as Error).message).toMatch(/after 3 attempts.*1 message\(s\) refused: InvalidParameterValue/);
    expect((error as Error).message).not.toContain('tok-');
  });

  it('throws QueueUnavailableError when the queue cannot be reached', async () => {
    const closed = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => closed.once('listening', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const endpoint = `http://127.0.0.1:${port}`;
    const unreachable = new SqsWorkQueue({ queueUrl: `${endpoint}/000000000000/q.fifo`, endpoint, credentials, maxAttempts: 2 });
    const work = planWork({ kind: 'unbind-tokens', platform: 'ios', tokens: ['abc'] }, { correlationId: 'x' });
    await expect(unreachable.enqueue(work)).rejects.toBeInstanceOf(QueueUnavailableError);
  });
});
