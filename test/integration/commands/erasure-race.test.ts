/**
 * A deleted account signing in again while its erasure is still being pushed: the erasure's push
 * chose op 5 from a ledger read made before the sign-in, then stalled (here: DynamoDB slow on its
 * index cleanup, as a frozen container would be). The sign-in waits for that op 5 to reach TPNS
 * before it records and pushes its own binding, so op 5 cannot remove it after it was answered.
 * Where the sign-in is recorded first, the erasure must spare it: op 3 on the tokens TPNS says
 * hold the account, never op 5, and when it could not ask TPNS, a retry.
 */
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { deleteAccount } from '../../../lib/commands/delete-account.js';
import { signIn } from '../../../lib/commands/sign-in.js';
import { LEASE_WAIT_MS } from '../../../lib/commands/work.js';
import { SEND_WINDOW_MS } from '../../../lib/convergence/push.js';
import { pushErasures } from '../../../lib/convergence/erasures.js';
import { QUERY_PATH } from '../../../lib/tpns/constants.js';
import { loadConfig } from '../../../lib/config/config.js';
import { createRuntime } from '../../../lib/config/runtime.js';
import type { Runtime } from '../../../lib/config/runtime.js';
import { batchCalls } from '../../support/tpns-calls.js';
import { startQuietStack } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';
import { useStack } from '../../support/use-stack.js';

let stack: Stack;
let runtime: Runtime;
useStack((started) => (stack = started), {}, startQuietStack);
beforeAll(async () => {
  runtime = createRuntime(await loadConfig(process.env));
});
beforeEach(() => stack.reset());

const device = (account: string, token: string) => ({ account, token, platform: 'android' as const });
/** Until the deletion's index cleanup is held by the count-1 latency rule (the rule is spent once it fires). */
const stalled = () => vi.waitFor(() => expect(stack.dynamo.faults.list()).toEqual([]), { timeout: 5_000, interval: 5 });

describe('a sign-in while the erasure of its account is still being pushed', () => {
  it('waits for the erasure to reach TPNS, so op 5 never removes the binding of a sign-in answered before it', async () => {
    expect(await signIn(runtime, device('returning-user', 'race-token-old'), { correlationId: 'before' })).toMatchObject({ status: 200 });
    // The deletion's push reads the ledger, then stalls 1 s on its index cleanup (the one
    // BatchWriteItem before its op 5): long enough for a sign-in to be recorded and answered meanwhile.
    stack.dynamo.faults.add({ kind: 'latency', latencyMs: 1_000, operation: 'BatchWriteItem', count: 1 });
    const deletion = deleteAccount(runtime, { account: 'returning-user' }, { correlationId: 'deletion' });
    await stalled(); // the deletion is past its reads and stalled
    const again = await signIn(runtime, device('returning-user', 'race-token-new'), { correlationId: 'again' });
    expect(again).toMatchObject({ status: 200, body: { applied: 1 } });
    expect(await deletion).toMatchObject({ status: 200 });
    await stack.tpns.idle();
    // Answered after the deletion: the new device holds the account, the old one does not.
    expect(stack.tpns.accountsOf('android', 'race-token-new')).toEqual([{ account: 'returning-user', accountType: 0 }]);
    expect(stack.tpns.accountsOf('android', 'race-token-old')).toEqual([]);
    // And TPNS got the op 5 before the new binding.
    const order = batchCalls(stack.tpns).filter((call) => call.operatorType === 5 || JSON.stringify(call.requested).includes('race-token-new')).map((call) => call.operatorType);
    expect(order).toEqual([5, 5, 2]); // op 5 on the Android and the iOS app, then the sign-in's op 2
  });

  it(`when the erasure stays unapplied past the wait, the sign-in records, then outlasts the erasure's send window (${SEND_WINDOW_MS} ms) before it pushes`, async () => {
    expect(await signIn(runtime, device('returning-user-2', 'race-token-old-2'), { correlationId: 'before' })).toMatchObject({ status: 200 });
    stack.dynamo.faults.add({ kind: 'latency', latencyMs: 4_000, operation: 'BatchWriteItem', count: 1 });
    const deletion = deleteAccount(runtime, { account: 'returning-user-2' }, { correlationId: 'deletion' });
    await stalled();
    const started = Date.now();
    const again = await signIn(runtime, device('returning-user-2', 'race-token-new-2'), { correlationId: 'again' });
    expect(again).toMatchObject({ status: 200, body: { applied: 1 } });
    const [bind] = batchCalls(stack.tpns, 2).filter((call) => JSON.stringify(call.requested).includes('race-token-new-2'));
    // The erasure wait (LEASE_WAIT_MS), then the send window of any erasure push that decided before the record.
    expect(bind!.receivedAt - started).toBeGreaterThanOrEqual(LEASE_WAIT_MS + SEND_WINDOW_MS - 50);
    // Stalled past its deadline: the erasure is handed to the worker.
    expect(await deletion).toMatchObject({ status: 202, body: { queued: 2 } });
    await stack.tpns.idle();
    // The erasure decided after the sign-in was recorded: it spared the new device.
    expect(stack.tpns.accountsOf('android', 'race-token-new-2')).toEqual([{ account: 'returning-user-2', accountType: 0 }]);
    expect(batchCalls(stack.tpns).filter((call) => call.operatorType === 5 && call.receivedAt > bind!.receivedAt)).toEqual([]);
  });

  it('an erasure whose fresh read shows a sign-in recorded since its first read queues that app (op 3 needs TPNS asked first), and the worker then spares the new device', async () => {
    const account = 'returning-user-5';
    expect(await signIn(runtime, device(account, 'race-token-old-5'), { correlationId: 'before' })).toMatchObject({ status: 200 });
    // Stalled 2.5 s between its first read and its fresh one: the sign-in (after its 1.5 s wait) is recorded in between, and the deletion still ends within its deadline.
    stack.dynamo.faults.add({ kind: 'latency', latencyMs: 2_500, operation: 'BatchWriteItem', count: 1 });
    const deletion = deleteAccount(runtime, { account }, { correlationId: 'deletion' });
    await stalled();
    expect(await signIn(runtime, device(account, 'race-token-new-5'), { correlationId: 'again' })).toMatchObject({ status: 200, body: { applied: 1 } });
    // iOS took op 5; Android was not sent op 5 (it would remove the new binding) but queued.
    expect(await deletion).toMatchObject({ status: 202, body: { queued: 2 } });
    await stack.tpns.idle();
    expect(batchCalls(stack.tpns, 5).map((call) => call.platform)).toEqual(['ios']);
    expect(stack.tpns.accountsOf('android', 'race-token-old-5')).toEqual([{ account, accountType: 0 }]);
    // The worker's push asks TPNS, then removes the account from the old token only (op 3).
    await stack.startWorker();
    await stack.quiesce();
    await stack.stopWorker();
    expect(stack.tpns.accountsOf('android', 'race-token-old-5')).toEqual([]);
    expect(stack.tpns.accountsOf('android', 'race-token-new-5')).toEqual([{ account, accountType: 0 }]);
    expect(batchCalls(stack.tpns, 3).map((call) => [call.platform, call.requested])).toEqual([['android', [{ token: 'race-token-old-5', accounts: [{ account, accountType: 0 }] }]]]);
    expect(await stack.take()).toEqual([]);
  });

  it('when TPNS does not answer which tokens hold the account (needed for op 3), that app is retried, never op 5d over the newer sign-in', async () => {
    const account = 'returning-user-4';
    const ref = { account };
    expect(await signIn(runtime, device(account, 'race-token-old-4'), { correlationId: 'before' })).toMatchObject({ status: 200 });
    // The deletion is recorded, but TPNS takes none of it: both apps are left for the worker.
    stack.tpns.injectFault({ kind: 'internal', path: 'batchoperate' });
    expect(await deleteAccount(runtime, ref, { correlationId: 'deletion' })).toMatchObject({ status: 202, body: { queued: 2 } });
    stack.tpns.clearFaults();
    await stack.take('binding', { waitForDelayed: true }); // this test pushes the erasure itself
    expect(await signIn(runtime, device(account, 'race-token-new-4'), { correlationId: 'again' })).toMatchObject({ status: 200, body: { applied: 1 } });
    await stack.tpns.idle();
    // Android must spare the new sign-in: op 3 on the tokens TPNS says hold the account, and that query fails.
    stack.tpns.injectFault({ kind: 'internal', path: QUERY_PATH });
    const sentBefore = batchCalls(stack.tpns).length;
    const first = await pushErasures(runtime, [ref], { budgetMs: 0 });
    expect(first.get(runtime.ledger.digestOf(ref))).toMatchObject({ status: 'retry', code: '1008004' });
    // iOS (no newer sign-in there) took op 5; nothing at all was sent to Android.
    expect(batchCalls(stack.tpns).slice(sentBefore).map((call) => [call.platform, call.operatorType])).toEqual([['ios', 5]]);
    await stack.tpns.idle();
    expect(stack.tpns.accountsOf('android', 'race-token-old-4')).toEqual([{ account, accountType: 0 }]);
    expect(stack.tpns.accountsOf('android', 'race-token-new-4')).toEqual([{ account, accountType: 0 }]);
    // TPNS answers again: the retry removes the account from the old token only.
    stack.tpns.clearFaults();
    const second = await pushErasures(runtime, [ref], { budgetMs: 0 });
    expect(second.get(runtime.ledger.digestOf(ref))).toEqual({ status: 'applied' });
    await stack.tpns.idle();
    expect(stack.tpns.accountsOf('android', 'race-token-old-4')).toEqual([]);
    expect(stack.tpns.accountsOf('android', 'race-token-new-4')).toEqual([{ account, accountType: 0 }]);
  });

  it("a sign-in while the erasure's read-back repairs with op 3 (applied, not verified) pushes after that op 3, never before it", { timeout: 20_000 }, async () => {
    const [account, extra] = ['returning-user-3', 'race-token-sdk-3'];
    await stack.take('binding', { waitForDelayed: true }); // the earlier tests' follow-ups: this test's worker sees only its own
    expect(await signIn(runtime, device(account, 'race-token-old-3'), { correlationId: 'before' })).toMatchObject({ status: 200 });
    expect(await deleteAccount(runtime, { account }, { correlationId: 'deletion' })).toMatchObject({ status: 200 });
    await stack.tpns.idle();
    // The app's SDK binds the erased account again behind the ledger's back: the read-back will find it and repair with op 3.
    await runtime.tpns.bind('android', [{ token: extra, account }]);
    await stack.tpns.idle();
    // The read-back's ledger read (its account-index Query) is served at once and answered 700 ms late, within the send window.
    stack.dynamo.faults.resetCounters();
    stack.dynamo.faults.add({ kind: 'latency', latencyAt: 'answer', latencyMs: 700, operation: 'Query', count: 1 });
    await stack.startWorker();
    await vi.waitFor(() => expect(stack.dynamo.faults.requests().Query).toBe(1), { timeout: 10_000, interval: 5 });
    // Signing in on that very token now: recorded after the read-back's read, so that read did not allow it.
    const again = await signIn(runtime, device(account, extra), { correlationId: 'again' });
    const answeredAt = Date.now();
    expect(again).toMatchObject({ status: 200, body: { applied: 1 } });
    await stack.quiesce();
    const forExtra = batchCalls(stack.tpns).filter((call) => JSON.stringify(call.requested).includes(extra) && call.receivedAt > 0);
    const repair = forExtra.find((call) => call.operatorType === 3);
    const bind = forExtra.filter((call) => call.operatorType === 2).at(-1);
    // The op 3 decided before the sign-in reached TPNS before the sign-in's op 2 and before its answer.
    expect(repair!.receivedAt).toBeLessThan(bind!.receivedAt);
    expect(repair!.receivedAt).toBeLessThanOrEqual(answeredAt);
    expect(stack.tpns.accountsOf('android', extra)).toEqual([{ account, accountType: 0 }]);
    await stack.stopWorker();
  });
});
