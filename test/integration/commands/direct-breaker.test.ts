/**
 * The direct-path breaker against the real TPNS emulator (faults injected) and fauxqs: once
 * TPNS throttles a sign-in past its budget, the next sign-ins of the container are queued at
 * once without a TPNS call; after the cool-down the next one goes direct again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectBreaker, signIn } from '../../../lib/commands/index.js';
import type { Runtime } from '../../../lib/commands/index.js';
import { SqsWorkQueue } from '../../../lib/queue/sqs-work-queue.js';
import { startLocalSqs } from '../../../local/sqs/fauxqs.js';
import type { LocalSqs } from '../../../local/sqs/fauxqs.js';
import { callsTo, clientFor, useEmulator } from '../tpns/emulator.js';

/** Short, so the test waits it out in milliseconds; the deployed default is DIRECT_COOL_DOWN_MS. */
const COOL_DOWN_MS = 300;
const emulator = useEmulator();
let sqs: LocalSqs;

beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(() => sqs.close());

function runtimeWith(breaker: DirectBreaker): Runtime {
  const queue = new SqsWorkQueue({
    queueUrl: sqs.queueUrl,
    endpoint: sqs.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return { tpns: clientFor(emulator()).tpns, queue, directBreaker: breaker };
}

const device = (token: string) => ({ account: 'user-01', token, platform: 'android' as const });
const meta = { correlationId: 'breaker-test' };

describe('direct-path breaker', () => {
  it('queues straight away during the cool-down, then goes direct again', async () => {
    const breaker = new DirectBreaker(COOL_DOWN_MS);
    const runtime = runtimeWith(breaker);
    const queuedBefore = (await sqs.depth()).queued;

    emulator().injectFault({ kind: 'rate-limit', path: 'batchoperate', retryAfterSeconds: 0 });
    const throttled = await signIn(runtime, device('breaker-token-1'), meta);
    expect(throttled).toMatchObject({ status: 202, body: { queued: 1 } });
    expect(breaker.isOpen()).toBe(true);

    // TPNS recovered, but this container does not know yet: no TPNS call, queued at once.
    emulator().clearFaults();
    const callsBefore = callsTo(emulator(), 'batchoperate').length;
    const skipped = await signIn(runtime, device('breaker-token-2'), meta);
    expect(skipped).toMatchObject({ status: 202, body: { queued: 1, applied: 0 } });
    expect(callsTo(emulator(), 'batchoperate')).toHaveLength(callsBefore);
    expect((await sqs.depth()).queued).toBe(queuedBefore + 2);

    await sleep(COOL_DOWN_MS);
    const direct = await signIn(runtime, device('breaker-token-3'), meta);
    expect(direct).toEqual({ status: 200, body: { applied: 1, failed: [] } });
    expect(callsTo(emulator(), 'batchoperate')).toHaveLength(callsBefore + 1);
    expect(emulator().accountsOf('android', 'breaker-token-3')).toEqual([{ account: 'user-01', accountType: 0 }]);
    expect(breaker.isOpen()).toBe(false);
  });

  it('stays closed when a retry within the budget gets through', async () => {
    const breaker = new DirectBreaker(COOL_DOWN_MS);
    emulator().injectFault({ kind: 'http500', count: 1, path: 'batchoperate' });
    // One 500 retried within the budget: applied, nothing left over, the breaker stays closed.
    expect(await signIn(runtimeWith(breaker), device('breaker-token-4'), meta)).toMatchObject({ status: 200 });
    expect(breaker.isOpen()).toBe(false);
  });
});
