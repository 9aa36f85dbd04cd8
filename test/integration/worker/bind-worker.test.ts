import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/bind-worker.js';
import { planWork } from '../../../lib/queue/index.js';
import type { QueuedWork, WorkInput } from '../../../lib/queue/index.js';
import { localSqsClient } from '../../../local/sqs/client.js';
import type { SqsBatchHandler } from '../../../local/sqs/event-source.js';
import { startWorkerHarness } from './harness.js';
import type { WorkerHarness } from './harness.js';

let h: WorkerHarness;
beforeAll(async () => {
  h = await startWorkerHarness();
});
afterAll(async () => h.close());
afterEach(async () => {
  await h.stopFeeding();
  await h.takeDeadLetters();
  h.emulator.reset();
});

/** The deployed handler, as Lambda invokes it. */
const worker: SqsBatchHandler = (event, context) => handler(event, context);

let request = 0;
const plan = (input: WorkInput) => planWork(input, { correlationId: `it-${++request}` });
const bindings = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ token: `${prefix}-${i}`, account: `user-${i}` }));
const accountOf = (token: string, platform: 'android' | 'ios' = 'android') => h.emulator.accountsOf(platform, token).map((a) => a.account);

describe('bind-worker over fauxqs and the TPNS emulator', () => {
  it('applies 1 000 queued bindings with exactly 50 batchoperate calls', async () => {
    await h.queue.enqueue(plan({ kind: 'bind', platform: 'android', items: bindings(1000, 'bulk') }));
    const source = h.feed(worker);
    await source.drained();
    expect(h.batchCalls()).toBe(50);
    for (const { token, account } of bindings(1000, 'bulk')) expect(accountOf(token)).toEqual([account]);
    expect(source.stats()).toMatchObject({ received: 50, deleted: 50, failed: 0 });
    expect(await h.sqs.depth()).toMatchObject({ deadLettered: 0 });
  });

  it('sends a full batch of 10 bulk messages as 10 TPNS calls at once (WORKER_TPNS_CONCURRENCY), not 4 at a time', async () => {
    // Every call answered 1 s late: a call arriving later than that after the first waited for a slot.
    const latencyMs = 1_000;
    h.emulator.injectFault({ kind: 'latency', latencyMs, path: 'batchoperate' });
    await h.queue.enqueue(plan({ kind: 'bind', platform: 'android', items: bindings(200, 'wave') }));
    await h.feed(worker, { concurrency: 1 }).drained();
    const arrivals = h.emulator.requests().filter((r) => r.path.endsWith('batchoperate')).map((r) => r.time);
    expect(arrivals).toHaveLength(10);
    const first = Math.min(...arrivals);
    expect(arrivals.filter((time) => time - first < latencyMs)).toHaveLength(10);
  });

  it('coalesces a burst of 200 single-token sign-ins into far fewer calls', async () => {
    const burst = bindings(200, 'burst').flatMap((binding) => plan({ kind: 'bind', platform: 'ios', items: [binding] }));
    expect(new Set(burst.map((w) => w.groupId)).size).toBe(200);
    await h.queue.enqueue(burst);
    await h.feed(worker).drained();
    // Each batch of 10 messages is one call: 20, not 200.
    expect(h.batchCalls()).toBeLessThanOrEqual(20);
    for (const { token, account } of bindings(200, 'burst')) expect(accountOf(token, 'ios')).toEqual([account]);
  });

  it('applies the operations on one token in the order they were queued', async () => {
    const work: QueuedWork[] = [
      ...plan({ kind: 'bind', platform: 'android', items: [{ token: 'seq-1', account: 'alice' }] }),
      ...plan({ kind: 'bind', platform: 'android', items: [{ token: 'seq-2', account: 'carol' }] }),
      ...plan({ kind: 'bind', platform: 'android', items: [{ token: 'seq-3', account: 'dave' }] }),
      ...plan({ kind: 'bind', platform: 'android', items: [{ token: 'seq-1', account: 'bob' }] }),
      ...plan({ kind: 'unbind-tokens', platform: 'android', tokens: ['seq-2'] }),
      ...plan({ kind: 'remove-accounts', platform: 'android', items: [{ token: 'seq-3', accounts: [{ account: 'dave' }] }] }),
      ...plan({ kind: 'bind', platform: 'android', items: [{ token: 'seq-2', account: 'erin' }] }),
      ...plan({ kind: 'unbind-tokens', platform: 'android', tokens: ['seq-2'] }),
    ];
    await h.queue.enqueue(work);
    await h.feed(worker).drained();
    expect(accountOf('seq-1')).toEqual(['bob']);
    expect(accountOf('seq-2')).toEqual([]);
    expect(accountOf('seq-3')).toEqual([]);
  });

  it('retries work that met retryable TPNS faults through batchItemFailures until it is applied', async () => {
    h.emulator.injectFault({ kind: 'internal', count: 2, path: 'batchoperate' });
    h.emulator.injectFault({ kind: 'http500', count: 1, path: 'batchoperate' });
    const work = bindings(60, 'flaky').flatMap((binding) => plan({ kind: 'bind', platform: 'android', items: [binding] }));
    await h.queue.enqueue(work);
    const source = h.feed(worker);
    await source.drained();
    expect(h.emulator.counters().byFault).toMatchObject({ internal: 2, http500: 1 });
    expect(source.stats().failed).toBeGreaterThan(0);
    for (const { token, account } of bindings(60, 'flaky')) expect(accountOf(token)).toEqual([account]);
    expect(await h.takeDeadLetters()).toEqual({ letters: [], redriven: [] });
  });

  it('dead-letters only the invalid token, with its reason, applies the rest and does not retry', async () => {
    h.emulator.setInvalidTokens(['chunk-7']);
    await h.queue.enqueue(plan({ kind: 'bind', platform: 'android', items: bindings(20, 'chunk') }));
    const source = h.feed(worker);
    await source.drained();
    expect(h.batchCalls()).toBe(1);
    expect(source.stats()).toMatchObject({ received: 1, failed: 0 });
    for (const { token, account } of bindings(20, 'chunk')) expect(accountOf(token)).toEqual(token === 'chunk-7' ? [] : [account]);
    const { letters, redriven } = await h.takeDeadLetters();
    expect(redriven).toEqual([]);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      type: 'dead-letter',
      reason: { code: '1008006' },
      work: { v: 1, kind: 'bind', platform: 'android', items: [{ token: 'chunk-7', account: 'user-7' }] },
    });
  });

  it('dead-letters a message that fails the schema, without retrying it or calling TPNS', async () => {
    const client = localSqsClient(h.sqs.endpoint);
    await client.send(
      new SendMessageCommand({ QueueUrl: h.sqs.queueUrl, MessageBody: '{"v":9,"kind":"bind"}', MessageGroupId: 't:x', MessageDeduplicationId: 'bad-schema' }),
    );
    client.destroy();
    const source = h.feed(worker);
    await source.drained();
    expect(source.stats()).toMatchObject({ received: 1, deleted: 1, failed: 0 });
    expect(h.batchCalls()).toBe(0);
    const { letters } = await h.takeDeadLetters();
    expect(letters).toEqual([
      expect.objectContaining({ reason: { code: 'INVALID_MESSAGE', message: expect.stringMatching(/^not a v1 work message/) }, body: '{"v":9,"kind":"bind"}' }),
    ]);
  });

  it('refuses an event that is not from SQS, naming what it expected', async () => {
    const event = { version: '0', id: 'e-1', 'detail-type': 'account.login', source: 'my.auth', detail: { account: 'alice' } };
    await expect(worker(event as never, {} as never)).rejects.toThrow(/expected an SQS event/);
    expect(h.batchCalls()).toBe(0);
  });

  it('leaves work that keeps failing retryably to the queue’s redrive: dead-lettered unchanged after maxReceiveCount', async () => {
    h.emulator.injectFault({ kind: 'internal', platform: 'ios', path: 'batchoperate' });
    const ios = plan({ kind: 'bind', platform: 'ios', items: [{ token: 'stuck', account: 'alice' }] });
    const android = plan({ kind: 'bind', platform: 'android', items: [{ token: 'fine', account: 'bob' }] });
    await h.queue.enqueue([...ios, ...android]);
    const source = h.feed(worker);
    await source.drained();
    expect(accountOf('fine')).toEqual(['bob']);
    // At most maxReceiveCount deliveries (a long poll cut short by the previous test's stop() may
    // have used one up, as an abandoned receive does in SQS), each one TPNS call that failed.
    const iosCalls = h.emulator.requests().filter((r) => r.platform === 'ios');
    expect(iosCalls.length).toBeGreaterThan(0);
    expect(iosCalls.length).toBeLessThanOrEqual(h.sqs.config.maxReceiveCount);
    expect(iosCalls.every((r) => r.fault === 'internal')).toBe(true);
    expect(source.stats().failed).toBe(iosCalls.length);
    expect(await h.takeDeadLetters()).toEqual({ letters: [], redriven: [ios[0]!.message] });
  }, 20_000);
});
