/**
 * Accepted work that went through the queue really reaches TPNS: the handlers enqueue into
 * fauxqs, the real worker (functions/bind-worker) drains it through a Lambda-like event source.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as bindWorker } from '../../../functions/bind-worker.js';
import { handler as login } from '../../../functions/login.js';
import { handler as logout } from '../../../functions/logout.js';
import { resetRuntimeForTests } from '../../../lib/config/runtime.js';
import { startEventSource } from '../../../local/sqs/event-source.js';
import type { EventSourceStats, SqsBatchHandler } from '../../../local/sqs/event-source.js';
import { batchCalls, httpEvent, invokeHttp, startStack } from './harness.js';
import type { Stack } from './harness.js';

let stack: Stack;
beforeAll(async () => {
  // A failed message comes back after 1 s instead of the deployed 6 minutes.
  stack = await startStack({ queueAttributes: { VisibilityTimeout: '1' } });
});
afterAll(() => stack.close());
beforeEach(() => stack.tpns.reset());

async function drain(): Promise<EventSourceStats> {
  const source = startEventSource({
    endpoint: stack.sqs.endpoint,
    queueUrl: stack.sqs.queueUrl,
    handler: bindWorker as SqsBatchHandler,
    batchSize: 10,
    concurrency: 2,
    waitTimeSeconds: 1,
  });
  try {
    await source.drained();
    return source.stats();
  } finally {
    await source.stop();
  }
}

describe('work accepted through the queue', () => {
  it('a bulk bind of 1 000 pairs answers 202; the worker applies it in exactly 50 TPNS calls', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ token: `bulk-token-${i}`, account: `bulk-account-${i}`, platform: 'android' }));
    const answer = await invokeHttp(login, httpEvent('POST /v1/admin/bindings', { scope: 'tpns/admin', body: { items } }));
    expect(answer.statusCode).toBe(202);
    expect(answer.body).toMatchObject({ queued: 1000, chunks: 50 });
    expect(stack.tpns.requests()).toHaveLength(0);

    await drain();
    expect(batchCalls(stack.tpns, 2)).toHaveLength(50);
    expect(batchCalls(stack.tpns)).toHaveLength(50);
    const bound = stack.tpns.state('android').tokens;
    expect(bound).toHaveLength(1000);
    for (const i of [0, 499, 999]) {
      expect(stack.tpns.accountsOf('android', `bulk-token-${i}`)).toEqual([{ account: `bulk-account-${i}`, accountType: 0 }]);
    }
    expect((await stack.sqs.depth()).deadLettered).toBe(0);
  });

  it('a queued login never outlives the logout that followed it', async () => {
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

    await drain();
    // The queued op 2 was applied, then the confirming op 3 in the same group undid it.
    const applied = batchCalls(stack.tpns).filter((call) => call.httpStatus === 200).map((call) => call.operatorType);
    expect(applied).toEqual([4, 2, 3]);
    expect(stack.tpns.accountsOf('ios', token)).toEqual([]);
    expect((await stack.sqs.depth()).deadLettered).toBe(0);
  });

  it('the confirmations of a burst of direct sign-ins cost the worker one coalesced TPNS call per batch', async () => {
    resetRuntimeForTests(); // a fresh container: the previous test's TPNS faults opened this one's direct-path breaker
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { account: `burst-${i}`, pathParameters: { token: `burst-token-${i}` }, body: { platform: 'android' } })),
      ),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array.from({ length: 40 }, () => 200));
    expect(batchCalls(stack.tpns, 2)).toHaveLength(40); // the direct calls

    const stats = await drain();
    const workerCalls = batchCalls(stack.tpns, 2).length - 40;
    expect(stats.received).toBe(40);
    // Up to 10 single-token messages per batch, merged into one call of up to 20 tokens.
    expect(workerCalls).toBe(stats.batches);
    expect(workerCalls).toBeLessThanOrEqual(8);
    expect(stack.tpns.accountsOf('android', 'burst-token-39')).toEqual([{ account: 'burst-39', accountType: 0 }]);
  });
});
