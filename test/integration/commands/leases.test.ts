/**
 * The token's push lease (G2) through the commands, on real parts: a sign-in that finds another
 * push of the same token in flight records its intent, waits for the lease and pushes the newer
 * intent itself; if the holder takes longer than LEASE_WAIT_MS it hands the push to the queue
 * (202) rather than racing the older call.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { listDevices } from '../../../lib/commands/list-devices.js';
import { bulkBind, signIn } from '../../../lib/commands/sign-in.js';
import { LEASE_WAIT_MS } from '../../../lib/commands/work.js';
import { pushTokens } from '../../../lib/convergence/push.js';
import { LEASE_MS } from '../../../lib/ledger/dynamo-ledger.js';
import { tokenKeyId } from '../../../lib/ledger/records.js';
import { loadConfig } from '../../../lib/config/config.js';
import { createRuntime } from '../../../lib/config/runtime.js';
import type { Runtime } from '../../../lib/config/runtime.js';
import { queuedForToken } from '../functions/harness.js';
import { batchCalls } from '../../support/tpns-calls.js';
import { captureOutput } from '../../support/output.js';
import { startQuietStack } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';

let stack: Stack;
let runtime: Runtime;
beforeAll(async () => {
  stack = await startQuietStack();
  runtime = createRuntime(await loadConfig(process.env));
});
afterAll(() => stack.close());
beforeEach(() => stack.tpns.reset());

const device = (account: string, token: string) => ({ account, token, platform: 'android' as const });
/** Until the count-1 latency rule fired (a spent rule is dropped): the holder's call is at TPNS, held. */
const heldAtTpns = () => vi.waitFor(() => expect(stack.tpns.faults()).toEqual([]), { timeout: 5_000, interval: 5 });
const callsFor = (token: string) => batchCalls(stack.tpns, 2).filter((call) => JSON.stringify(call.requested).includes(token));

describe("TPNS's Retry-After on the direct path", () => {
  it('a throttled sign-in tries again no sooner than TPNS asked (1 s), within its budget', async () => {
    const token = 'retry-after-token-1';
    stack.tpns.injectFault({ kind: 'rate-limit', count: 1, retryAfterSeconds: 1, path: 'batchoperate' });
    expect(await signIn(runtime, device('patient-user', token), { correlationId: 'patient' })).toEqual({ status: 200, body: { applied: 1, failed: [] } });
    const [throttled, retried] = callsFor(token);
    expect(callsFor(token)).toHaveLength(2);
    expect(retried!.receivedAt - throttled!.receivedAt).toBeGreaterThanOrEqual(950);
  });
});

describe('a sign-in while another push of the same token is in flight', () => {
  it('waits for the lease, then pushes the newer intent after the older call was answered', async () => {
    const token = 'lease-token-1';
    stack.tpns.injectFault({ kind: 'latency', latencyMs: 700, count: 1, path: 'batchoperate' });
    const first = signIn(runtime, device('first-user', token), { correlationId: 'first' });
    await heldAtTpns(); // the first holds the lease and its call is in flight
    const second = await signIn(runtime, device('second-user', token), { correlationId: 'second' });
    expect(await first).toEqual({ status: 200, body: { applied: 1, failed: [] } });
    expect(second).toEqual({ status: 200, body: { applied: 1, failed: [] } });
    await stack.tpns.idle();
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'second-user', accountType: 0 }]);
    const [older, newer] = callsFor(token);
    expect(callsFor(token)).toHaveLength(2);
    expect(JSON.stringify(newer!.requested)).toContain('second-user');
    // Sent only once the older call had been answered (it was held 700 ms).
    expect(newer!.receivedAt - older!.receivedAt).toBeGreaterThanOrEqual(650);
    expect((await listDevices(runtime, { account: 'second-user' })).devices).toEqual([expect.objectContaining({ token, state: 'applied' })]);
    expect((await listDevices(runtime, { account: 'first-user' })).devices).toEqual([]);
  });

  it(`queues its push (202) when the holder keeps the lease longer than LEASE_WAIT_MS (${LEASE_WAIT_MS} ms); the worker then pushes the newer intent`, async () => {
    const token = 'lease-token-2';
    stack.tpns.injectFault({ kind: 'latency', latencyMs: LEASE_WAIT_MS + 700, count: 1, path: 'batchoperate' });
    const first = signIn(runtime, device('slow-holder', token), { correlationId: 'slow' });
    await heldAtTpns();
    const second = await signIn(runtime, device('waiter', token), { correlationId: 'waiter' });
    expect(second).toMatchObject({ status: 202, body: { queued: 1, chunks: 1, applied: 0 } });
    // It never sent anything itself.
    expect(callsFor(token).filter((call) => JSON.stringify(call.requested).includes('waiter'))).toEqual([]);
    expect((await queuedForToken(stack.sqs, token)).filter(({ message }) => message.correlationId === 'waiter').map(({ message }) => message.phase)).toEqual(['push']);
    expect((await first).status).toBe(200);

    await stack.startWorker();
    await stack.quiesce();
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'waiter', accountType: 0 }]);
    expect((await listDevices(runtime, { account: 'waiter' })).devices).toEqual([expect.objectContaining({ token, state: 'verified' })]);
  });

  it(`a holder stalled between its re-read and its send (the read answered ${LEASE_WAIT_MS + 1_500} ms late) sends nothing decided from it: no superseded binding after the waiter's answer`, async () => {
    const token = 'lease-token-3';
    // The holder's re-read (its second BatchGetItem, after the tombstone read) is served at once and answered late, as if the holder froze.
    stack.dynamo.faults.resetCounters();
    stack.dynamo.faults.add({ kind: 'latency', latencyAt: 'answer', latencyMs: LEASE_WAIT_MS + 1_500, after: 1, count: 1, operation: 'BatchGetItem' });
    // A long deadline, so that only the send window (not the request's deadline) can stop the stale send.
    const output = captureOutput();
    const first = signIn(runtime, device('stalled-holder', token), { correlationId: 'stalled' }, { deadlineMs: 8_000 });
    await vi.waitFor(() => expect(stack.dynamo.faults.requests().BatchGetItem).toBe(2), { timeout: 2_000, interval: 10 });
    const second = await signIn(runtime, device('waiter', token), { correlationId: 'waiter' });
    const answeredAt = Date.now();
    expect(second).toMatchObject({ status: 202, body: { queued: 1 } });
    expect(await first).toEqual({ status: 200, body: { applied: 1, failed: [] } });
    output.stop();
    expect(output).toHaveLogged({ level: 'WARN', message: 'Ops not sent: decided from a read older than the send window', ops: 1 });
    await stack.tpns.idle();
    // The holder read again after the window closed, and sent the newer intent; the older one never left.
    expect(callsFor(token).filter((call) => JSON.stringify(call.requested).includes('stalled-holder'))).toEqual([]);
    expect(callsFor(token).filter((call) => call.receivedAt > answeredAt).map((call) => JSON.stringify(call.requested))).toEqual([expect.stringContaining('waiter')]);
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'waiter', accountType: 0 }]);
  });

  it('a holder whose lease ran out and was taken over sends nothing (LEASE_LOST, left to the queue); the new holder pushes the intent', async () => {
    const key = { platform: 'android' as const, token: 'lease-token-4' };
    const stale = await runtime.ledger.recordSignIn(key, { account: 'stalled-past-lease' }, { claim: true });
    expect(stale.lease).toBeDefined();
    // As if the holder froze past its lease: another container (clock LEASE_MS later) takes it over.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + LEASE_MS + 1_000);
    const taker = await runtime.ledger.claim(key);
    clock.mockRestore();
    expect(taker).toBeDefined();
    const sent = batchCalls(stack.tpns).length;
    const results = await pushTokens(runtime, [stale], { budgetMs: 0 });
    expect([...results.values()]).toEqual([{ status: 'retry', code: 'LEASE_LOST', message: expect.any(String) as string }]);
    expect(batchCalls(stack.tpns)).toHaveLength(sent);
    // The stale holder gave nothing back that was not its own: the new holder's push goes through.
    expect([...(await pushTokens(runtime, [taker!], { budgetMs: 0 })).values()]).toEqual([{ status: 'applied' }]);
    await stack.tpns.idle();
    expect(stack.tpns.accountsOf('android', key.token)).toEqual([{ account: 'stalled-past-lease', accountType: 0 }]);
  });
});

describe('the ledger failing while a request waits for held leases', () => {
  it('pushes what it had leased by then itself and queues only the rest (202)', async () => {
    const [free, freed, kept] = ['lease-wait-free', 'lease-wait-freed', 'lease-wait-kept'].map((token) => ({ platform: 'android' as const, token }));
    // Another push holds two of the three tokens.
    const [freedHold] = await Promise.all([freed, kept].map((key) => runtime.ledger.recordSignIn(key!, { account: 'earlier-holder' }, { claim: true })));
    const answer = bulkBind(runtime, { items: [free!, freed!, kept!].map((key) => ({ ...key, account: 'bulk-waiter' })) }, { correlationId: 'wait-then-fail' });
    const records = async () => runtime.ledger.getTokens([free!, freed!, kept!]);
    // Once the request has recorded all three (and waits for two leases), the holder gives one back;
    // once the request has taken that one over, every DynamoDB write fails.
    await vi.waitFor(async () => expect([...(await records()).values()].filter((record) => record.entries.some(({ account }) => account === 'bulk-waiter'))).toHaveLength(3), { timeout: LEASE_WAIT_MS, interval: 5 });
    await runtime.ledger.release(freed!, freedHold!.lease!);
    const takenOver = async () => [undefined, freedHold!.lease!.by].includes((await records()).get(tokenKeyId(freed!))?.lease?.by) === false;
    await vi.waitFor(async () => expect(await takenOver()).toBe(true), { timeout: LEASE_WAIT_MS, interval: 5 });
    stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'UpdateItem' });
    try {
      expect(await answer).toEqual({ status: 202, body: { applied: 2, failed: [], queued: 1, chunks: 1 } });
    } finally {
      stack.dynamo.faults.clear();
    }
    await stack.tpns.idle();
    for (const key of [free!, freed!]) expect(stack.tpns.accountsOf('android', key.token), key.token).toEqual([{ account: 'bulk-waiter', accountType: 0 }]);
    // Still held by the other push (its lease runs LEASE_MS): the worker pushes it from the queue.
    expect(stack.tpns.accountsOf('android', kept!.token)).toEqual([]);
  });
});
