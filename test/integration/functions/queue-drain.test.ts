/**
 * Accepted work that went through the queue really reaches TPNS, and is read back: the handlers
 * record in the ledger and queue keys in fauxqs, the real worker (functions/bind-worker) behind
 * a Lambda-like event source pushes and verifies them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { useStack } from '../../support/use-stack.js';
import { handler as bindWorker } from '../../../functions/bind-worker.js';
import { handler as login } from '../../../functions/login.js';
import { handler as logout } from '../../../functions/logout.js';
import { handler as query } from '../../../functions/query.js';
import { startEventSource } from '../../../local/sqs/event-source.js';
import type { SqsBatchHandler } from '../../../local/sqs/event-source.js';
import { TEST_VERIFY_DELAY_SECONDS } from '../../support/stack.js';
import { httpEvent, invokeHttp } from './harness.js';
import { batchCalls, readBackCalls } from '../../support/tpns-calls.js';
import { startQuietStack } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';

let stack: Stack;
useStack((started) => (stack = started), {}, startQuietStack);
beforeEach(() => stack.tpns.reset());

/** Starts a worker (serverless.yml's batch size aside) for this test and waits until the queue is empty and TPNS has applied everything. */
async function drain(options: { maximumBatchingWindowSeconds?: number } = {}) {
  const source = startEventSource({
    endpoint: stack.sqs.endpoint,
    queueUrl: stack.sqs.queueUrl,
    handler: bindWorker as SqsBatchHandler,
    batchSize: 100,
    waitTimeSeconds: 1,
    // Long enough that a big batch is never received twice while it runs.
    visibilityTimeoutSeconds: 30,
    ...options,
  });
  try {
    await source.drained();
    await stack.tpns.idle();
    return source.stats();
  } finally {
    await source.stop();
  }
}

const devices = async (account: string) =>
  (await invokeHttp(query, httpEvent('GET /v1/me/devices', { account }))).body.devices as { token: string; state: string }[];

describe('work accepted through the queue', () => {
  it('a bulk bind of 1 000 pairs answers 202; the worker pushes it in exactly 50 TPNS calls and verifies every pair', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ token: `bulk-token-${i}`, account: `bulk-account-${i}`, platform: 'android' }));
    const answer = await invokeHttp(login, httpEvent('POST /v1/admin/bindings', { scope: 'tpns/admin', body: { items } }));
    expect(answer.statusCode).toBe(202);
    expect(answer.body).toMatchObject({ queued: 1000, chunks: 50 });
    expect(stack.tpns.requests()).toHaveLength(0);

    await drain();
    expect(batchCalls(stack.tpns, 2)).toHaveLength(50);
    // Everything read back equal: no repair call.
    expect(batchCalls(stack.tpns)).toHaveLength(50);
    expect(readBackCalls(stack.tpns).length).toBeGreaterThanOrEqual(50);
    expect(readBackCalls(stack.tpns).length).toBeLessThanOrEqual(100);
    const bound = stack.tpns.state('android').tokens;
    expect(bound).toHaveLength(1000);
    for (const i of [0, 499, 999]) {
      expect(stack.tpns.accountsOf('android', `bulk-token-${i}`)).toEqual([{ account: `bulk-account-${i}`, accountType: 0 }]);
      expect(await devices(`bulk-account-${i}`)).toEqual([expect.objectContaining({ token: `bulk-token-${i}`, state: 'verified' })]);
    }
    expect((await stack.sqs.depth()).deadLettered).toBe(0);
  });

  it('a queued login never outlives the logout that followed it: the worker pushes the current intent, not the sign-in', async () => {
    const token = 'shared-device-1';
    stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    const signIn = await invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { account: 'alice-01', pathParameters: { token }, body: { platform: 'ios' } }));
    expect(signIn.statusCode).toBe(202);
    expect(stack.tpns.accountsOf('ios', token)).toEqual([]);

    stack.tpns.clearFaults();
    const signOut = await invokeHttp(
      logout,
      httpEvent('DELETE /v1/me/devices/{token}', { account: 'alice-01', pathParameters: { token }, query: { platform: 'ios' } }),
    );
    expect(signOut.statusCode).toBe(200);
    const answeredAt = Date.now();

    await drain();
    // The queued push sent the then-current intent (empty: op 4 again); no op 2 got through after the sign-out was answered.
    const applied = batchCalls(stack.tpns).filter((call) => call.httpStatus === 200);
    expect(applied.map((call) => call.operatorType)).toEqual([4, 4]);
    expect(applied.filter((call) => call.operatorType === 2 && call.receivedAt >= answeredAt)).toEqual([]);
    expect(stack.tpns.accountsOf('ios', token)).toEqual([]);
    expect((await stack.sqs.depth()).deadLettered).toBe(0);
  });

  it('the read-backs of a burst of 40 direct sign-ins cost the worker 2 query calls and no TPNS write', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { account: `burst-${i}`, pathParameters: { token: `burst-token-${i}` }, body: { platform: 'android' } })),
      ),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array.from({ length: 40 }, () => 200));
    expect(batchCalls(stack.tpns, 2)).toHaveLength(40); // the direct calls
    await stack.tpns.idle();

    // Every read-back is visible by now: one batch gathers all 40.
    await sleep(TEST_VERIFY_DELAY_SECONDS * 1000 + 200);
    const stats = await drain({ maximumBatchingWindowSeconds: 1 });
    expect(stats).toMatchObject({ received: 40, batches: 1, failed: 0 });
    expect(batchCalls(stack.tpns)).toHaveLength(40);
    // 40 tokens read back 20 per call.
    expect(readBackCalls(stack.tpns)).toHaveLength(2);
    expect(await devices('burst-39')).toEqual([expect.objectContaining({ token: 'burst-token-39', state: 'verified' })]);
  });
});
