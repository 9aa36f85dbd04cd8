/**
 * The queue senders against fauxqs: `SqsKeyQueue` (the binding queue: v2 key messages, per-message
 * DelaySeconds, refused entries retried) and `SqsDeadLetterQueue`. (This file held the FIFO
 * `SqsWorkQueue` tests; its successor is tested here.)
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DeleteMessageCommand, ReceiveMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyMessages, keyMessageSchema, QueueUnavailableError } from '../../../lib/queue/messages.js';
import { keyLetter, SqsDeadLetterQueue } from '../../../lib/queue/dead-letter.js';
import { SqsKeyQueue } from '../../../lib/queue/sqs-key-queue.js';
import type { ReconcileKey } from '../../../lib/queue/messages.js';
import { LOCAL_CREDENTIALS, localSqsClient } from '../../../local/sqs/client.js';
import { startLocalSqs } from '../../../local/sqs/fauxqs.js';
import type { LocalSqs } from '../../../local/sqs/fauxqs.js';

const keys = (n: number, prefix = 'tok'): ReconcileKey[] => Array.from({ length: n }, (_, i) => ({ kind: 'token', platform: 'android', token: `${prefix}-${i}` }));
const bodyOf = (message: Message): unknown => JSON.parse(message.Body ?? 'null');

/** Receives (and deletes) everything currently visible in the queue. */
async function drain(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const received: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
    if (Messages.length === 0) return received;
    for (const message of Messages) {
      received.push(message);
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

describe('SqsKeyQueue against fauxqs', () => {
  let sqs: LocalSqs;
  let client: SQSClient;
  let queue: SqsKeyQueue;
  beforeAll(async () => {
    sqs = await startLocalSqs();
    client = localSqsClient(sqs.endpoint);
    queue = new SqsKeyQueue({ queueUrl: sqs.queueUrl, endpoint: sqs.endpoint, credentials: LOCAL_CREDENTIALS });
  });
  afterAll(async () => {
    client.destroy();
    await sqs.close();
  });
  afterEach(async () => {
    await client.send(new SetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, Attributes: { MaximumMessageSize: '1048576' } }));
    await drain(client, sqs.queueUrl);
  });

  it('queues 1 000 keys as 50 schema-valid v2 messages', async () => {
    await queue.send(keyMessages(keys(1000), { phase: 'push', correlationId: 'bulk-1' }));
    const received = await drain(client, sqs.queueUrl);
    expect(received).toHaveLength(50);
    const tokens = received.flatMap((message) => {
      const parsed = keyMessageSchema.parse(bodyOf(message));
      expect(parsed).toMatchObject({ v: 2, phase: 'push', correlationId: 'bulk-1' });
      return parsed.phase === 'record' ? [] : parsed.keys.map((key) => (key.kind === 'token' ? key.token : ''));
    });
    expect(new Set(tokens).size).toBe(1000);
  });

  it('delays each message by its own DelaySeconds (a standard queue: read-backs later, pushes at once)', async () => {
    await queue.send([
      ...keyMessages(keys(1, 'now'), { phase: 'push', correlationId: 'now' }),
      ...keyMessages(keys(1, 'later'), { phase: 'verify', correlationId: 'later', delaySeconds: 2 }),
    ]);
    const first = await drain(client, sqs.queueUrl);
    expect(first.map((message) => (bodyOf(message) as { correlationId: string }).correlationId)).toEqual(['now']);
    expect((await sqs.depth()).delayed).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const second = await drain(client, sqs.queueUrl);
    expect(second.map((message) => (bodyOf(message) as { correlationId: string }).correlationId)).toEqual(['later']);
  });

  it('a duplicate send is delivered twice (no deduplication window): messages name keys, the ledger decides what they mean', async () => {
    const messages = keyMessages(keys(1, 'dup'), { phase: 'push', correlationId: 'dup' });
    await queue.send(messages);
    await queue.send(messages);
    expect(await drain(client, sqs.queueUrl)).toHaveLength(2);
  });

  it('retries the entries SQS refused until they are accepted', async () => {
    // fauxqs refuses, per entry, a message larger than the queue's MaximumMessageSize: the
    // 20-key messages (> 1 KiB) fail while a single-key message goes through.
    await client.send(new SetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, Attributes: { MaximumMessageSize: '1024' } }));
    const big = keyMessages(keys(40, 'x'.repeat(50)), { phase: 'push', correlationId: 'big' });
    const small = keyMessages(keys(1, 'solo'), { phase: 'push', correlationId: 'small' });
    expect(big.every(({ message }) => JSON.stringify(message).length > 1024)).toBe(true);

    const sent = queue.send([...big, ...small]);
    // Once the first attempt has landed the small message, make room: a retry must take the rest.
    for (let depth = await sqs.depth(); depth.queued === 0; depth = await sqs.depth()) await new Promise((r) => setTimeout(r, 10));
    await client.send(new SetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, Attributes: { MaximumMessageSize: '1048576' } }));
    await sent;

    const received = await drain(client, sqs.queueUrl);
    expect(received.map((message) => (bodyOf(message) as { correlationId: string }).correlationId).sort()).toEqual(['big', 'big', 'small']);
  });

  it('throws QueueUnavailableError naming the refusal, never the content, when entries keep being refused', async () => {
    await client.send(new SetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, Attributes: { MaximumMessageSize: '1024' } }));
    const big = keyMessages(keys(20, 'secret-token'.padEnd(50, 'x')), { phase: 'push', correlationId: 'big2' });
    const error = await queue.send(big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueUnavailableError);
    expect((error as Error).message).toMatch(/after 4 attempts.*1 message\(s\) refused: InvalidParameterValue/);
    expect((error as Error).message).not.toContain('secret-token');
  });

  it('throws QueueUnavailableError when the queue cannot be reached', async () => {
    const closed = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => closed.once('listening', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const endpoint = `http://127.0.0.1:${port}`;
    const unreachable = new SqsKeyQueue({ queueUrl: `${endpoint}/000000000000/q`, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 });
    await expect(unreachable.send(keyMessages(keys(1), { phase: 'verify', correlationId: 'x' }))).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('sends nothing (and needs no connection) for no messages', async () => {
    const nowhere = new SqsKeyQueue({ queueUrl: 'http://127.0.0.1:9/000000000000/q', endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    await expect(nowhere.send([])).resolves.toBeUndefined();
  });
});

describe('SqsDeadLetterQueue against fauxqs', () => {
  it('sends each letter with its reason code as a message attribute', async () => {
    const sqs = await startLocalSqs();
    const client = localSqsClient(sqs.endpoint);
    try {
      const letters = new SqsDeadLetterQueue({ queueUrl: sqs.dlqUrl, endpoint: sqs.endpoint, credentials: LOCAL_CREDENTIALS });
      const letter = keyLetter({ kind: 'token', platform: 'ios', token: 'bad-token' }, { code: '1008006', message: 'invalid token' }, { messageId: 'm-1', correlationId: 'req-1' });
      await letters.send([letter]);
      const [received] = await drain(client, sqs.dlqUrl);
      expect(bodyOf(received!)).toEqual(letter);
      expect(received!.MessageAttributes?.reason?.StringValue).toBe('1008006');
    } finally {
      client.destroy();
      await sqs.close();
    }
  });
});
