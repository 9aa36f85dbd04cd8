/**
 * The deployed worker (functions/bind-worker) fed by Lambda's SQS event source over fauxqs, with
 * serverless.yml's batching, against the TPNS emulator and the ledger on dynalite.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshName } from '../../support/stack.js';
import { handler as login } from '../../../functions/login.js';
import { bulkBind } from '../../../lib/commands/sign-in.js';
import { listDevices } from '../../../lib/commands/list-devices.js';
import { httpEvent, invokeHttp } from '../functions/harness.js';
import { deployedWorker, keyMessage, startWorkerHarness, tokenKey } from './harness.js';
import { batchCalls, readBackCalls, tokensOf } from '../../support/tpns-calls.js';
import type { WorkerHarness } from './harness.js';

const MAX_VERIFY_ATTEMPTS = 2;

let h: WorkerHarness;
beforeAll(async () => {
  h = await startWorkerHarness({ env: { MAX_VERIFY_ATTEMPTS: String(MAX_VERIFY_ATTEMPTS) } });
});
afterAll(async () => h.close());
afterEach(async () => {
  await h.stopFeeding();
  await h.takeDeadLetters();
  h.stack.tpns.reset();
  h.stack.dynamo.faults.clear();
});

const fresh = freshName;
const pairs = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ token: `${prefix}-${i}`, account: `${prefix}-user-${i}`, platform: 'android' as const }));
const accountOf = (token: string, platform: 'android' | 'ios' = 'android') => h.stack.tpns.accountsOf(platform, token).map((a) => a.account);
const stateOf = async (account: string) => (await listDevices(h.runtime, { account })).devices.map((device) => device.state);

/** Records pairs in the ledger and queues them as push keys, as a bulk import does (202). */
async function queueBulk(items: ReturnType<typeof pairs>) {
  const answer = await bulkBind(h.runtime, { items }, { correlationId: fresh('bulk') });
  expect(answer.status).toBe(202);
}

describe('bind-worker over fauxqs, dynalite and the TPNS emulator', () => {
  it('sends a full batch of 10 messages of 20 keys as 10 TPNS calls at once (WORKER_TPNS_CONCURRENCY), then verifies them', async () => {
    // Every call answered 1 s late: a call arriving later than that after the first waited for a slot.
    const latencyMs = 1_000;
    h.stack.tpns.injectFault({ kind: 'latency', latencyMs, path: 'batchoperate' });
    await queueBulk(pairs(200, 'wave'));
    const source = h.feed(deployedWorker, { concurrency: 1 });
    await source.drained();
    const arrivals = batchCalls(h.stack.tpns).map((entry) => entry.receivedAt);
    expect(arrivals).toHaveLength(10);
    const first = Math.min(...arrivals);
    expect(arrivals.filter((time) => time - first < latencyMs)).toHaveLength(10);
    expect(await stateOf('wave-user-199')).toEqual(['verified']);
    expect(source.stats()).toMatchObject({ failed: 0, handlerErrors: 0 });
  });

  it('coalesces 40 sign-ins queued while TPNS failed, across both apps, in one batch: at most 2 op-2 calls and 2 read-back calls', async () => {
    h.stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        invokeHttp(
          login,
          httpEvent('PUT /v1/me/devices/{token}', { account: `queued-${i}`, pathParameters: { token: `queued-token-${i}` }, body: { platform: i < 20 ? 'android' : 'ios' } }),
        ),
      ),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array.from({ length: 40 }, () => 202));
    h.stack.tpns.reset(); // TPNS is back; forget the failed direct attempts
    await sleep(1_200); // the queued pushes' delay
    // One poller: the 40 messages reach the worker in one batch (several pollers would split them).
    const source = h.feed(deployedWorker, { concurrency: 1 });
    await source.drained();
    await h.stack.tpns.idle();
    const binds = batchCalls(h.stack.tpns, 2);
    expect(binds.length).toBeLessThanOrEqual(2);
    expect(binds.flatMap(tokensOf)).toHaveLength(40);
    expect(readBackCalls(h.stack.tpns).length).toBeLessThanOrEqual(2);
    expect(accountOf('queued-token-39', 'ios')).toEqual(['queued-39']);
    expect(await stateOf('queued-0')).toEqual(['verified']);
  });

  it('converges to the ledger whatever the order and number of messages naming a token', async () => {
    const { ledger } = h.runtime;
    const key = (token: string) => ({ platform: 'android' as const, token });
    // Accepted in this order (recorded, not pushed: as after failed direct attempts).
    await ledger.recordSignIn(key('seq-1'), { account: 'alice' }, { claim: false });
    await ledger.recordSignIn(key('seq-2'), { account: 'carol' }, { claim: false });
    await ledger.recordSignIn(key('seq-1'), { account: 'bob' }, { claim: false });
    await ledger.recordSignOut(key('seq-2'), { claim: false });
    await ledger.recordSignIn(key('seq-3'), { account: 'dave' }, { claim: false });
    await ledger.recordSignIn(key('seq-3'), { account: 'erin', accountType: 4 }, { claim: false });
    // Messages newest first, repeated, one of them a read-back.
    await h.send([
      keyMessage('push', [tokenKey('seq-3'), tokenKey('seq-2'), tokenKey('seq-1')]),
      keyMessage('verify', [tokenKey('seq-1')]),
      keyMessage('push', [tokenKey('seq-2')]),
      keyMessage('push', [tokenKey('seq-1')], 3),
    ]);
    await h.feed().drained();
    await h.stack.tpns.idle();
    expect(accountOf('seq-1')).toEqual(['bob']);
    expect(accountOf('seq-2')).toEqual([]);
    expect(h.stack.tpns.accountsOf('android', 'seq-3')).toEqual([{ account: 'dave', accountType: 0 }, { account: 'erin', accountType: 4 }]);
    // Superseded intents were never sent.
    expect(batchCalls(h.stack.tpns, 2).filter((call) => JSON.stringify(call.requested).match(/alice|carol/))).toEqual([]);
    expect((await h.takeDeadLetters()).letters).toEqual([]);
  });

  it('retries keys that met retryable TPNS faults through re-queued pushes until they are applied and verified', async () => {
    h.stack.tpns.injectFault({ kind: 'internal', count: 2, path: 'batchoperate' });
    h.stack.tpns.injectFault({ kind: 'http500', count: 1, path: 'batchoperate' });
    await queueBulk(pairs(60, 'flaky'));
    const source = h.feed();
    await source.drained();
    await h.stack.tpns.idle();
    expect(h.stack.tpns.counters().byFault).toMatchObject({ internal: 2, http500: 1 });
    // Acknowledged and queued again, never left to the visibility timeout.
    expect(source.stats()).toMatchObject({ failed: 0, handlerErrors: 0 });
    for (const { token, account } of pairs(60, 'flaky')) expect(accountOf(token)).toEqual([account]);
    expect(await stateOf('flaky-user-59')).toEqual(['verified']);
    expect(await h.takeDeadLetters()).toEqual({ letters: [], redriven: [] });
  });

  it('dead-letters only the invalid token, with its reason, applies the rest and does not retry', async () => {
    h.stack.tpns.setInvalidTokens(['chunk-7']);
    await queueBulk(pairs(21, 'chunk'));
    const source = h.feed();
    await source.drained();
    expect(source.stats()).toMatchObject({ failed: 0 });
    for (const { token, account } of pairs(21, 'chunk')) expect(accountOf(token)).toEqual(token === 'chunk-7' ? [] : [account]);
    expect(batchCalls(h.stack.tpns, 2).flatMap(tokensOf).filter((token) => token === 'chunk-7')).toHaveLength(1);
    const { letters, redriven } = await h.takeDeadLetters();
    expect(redriven).toEqual([]);
    expect(letters).toEqual([
      expect.objectContaining({ type: 'dead-letter', reason: { code: '1008006', message: expect.any(String) as string }, key: tokenKey('chunk-7') }),
    ]);
  });

  it('dead-letters a message that fails the schema, without retrying it or calling TPNS', async () => {
    await h.send(['{"v":9,"kind":"bind"}']);
    const source = h.feed();
    await source.drained();
    expect(source.stats()).toMatchObject({ received: 1, deleted: 1, failed: 0 });
    expect(h.stack.tpns.requests()).toHaveLength(0);
    const { letters } = await h.takeDeadLetters();
    expect(letters).toEqual([
      expect.objectContaining({ reason: { code: 'INVALID_MESSAGE', message: expect.stringMatching(/^not a v2 key message/) as string }, body: '{"v":9,"kind":"bind"}' }),
    ]);
  });

  it('refuses an event that is not from SQS, naming what it expected', async () => {
    const event = { version: '0', id: 'e-1', 'detail-type': 'account.login', source: 'my.auth', detail: { account: 'alice' } };
    await expect(deployedWorker(event as never, {} as never)).rejects.toThrow(/expected an SQS event/);
    expect(h.stack.tpns.requests()).toHaveLength(0);
  });

  it(`dead-letters a key TPNS never comes to hold after MAX_VERIFY_ATTEMPTS (${MAX_VERIFY_ATTEMPTS}) read-backs, with both states`, async () => {
    // TPNS accepts every call but shows nothing for a minute: each read-back finds the token empty.
    h.stack.tpns.setPropagationDelay(60_000);
    await queueBulk(pairs(21, 'unseen'));
    const source = h.feed();
    await source.drained();
    const { letters } = await h.takeDeadLetters();
    expect(letters).toHaveLength(21);
    expect(letters.find((letter) => letter.key?.kind === 'token' && letter.key.token === 'unseen-3')).toMatchObject({
      reason: { code: 'NOT_CONVERGING' },
      desired: { empty: false, bound: [{ account: 'unseen-user-3', accountType: 0 }] },
      actual: [],
    });
    // The push, then one repair per read-back that found it different (the last one dead-letters instead).
    const callsFor3 = batchCalls(h.stack.tpns, 2).filter((call) => tokensOf(call).includes('unseen-3'));
    expect(callsFor3).toHaveLength(MAX_VERIFY_ATTEMPTS);
    expect(await stateOf('unseen-user-3')).toEqual(['drift']);
    h.stack.tpns.setPropagationDelay(0);
  }, 20_000);

  it('leaves keys the ledger cannot serve to the queue\'s redrive: dead-lettered unchanged after maxReceiveCount, TPNS never written', async () => {
    const message = keyMessage('push', [tokenKey(fresh('tok-noledger'))]);
    h.stack.dynamo.faults.add({ kind: 'InternalServerError' });
    await h.send([message]);
    const source = h.feed(deployedWorker, { concurrency: 1, visibilityTimeoutSeconds: 1, maximumBatchingWindowSeconds: 0, batchSize: 10 });
    await source.drained();
    expect(batchCalls(h.stack.tpns)).toHaveLength(0);
    // At most maxReceiveCount deliveries, each failed (a long poll cut short by stop() may have used one up).
    const { failed } = source.stats();
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThanOrEqual(h.stack.sqs.config.maxReceiveCount);
    expect(await h.takeDeadLetters()).toEqual({ letters: [], redriven: [message] });
  }, 20_000);
});
