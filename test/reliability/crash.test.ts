/**
 * The worker dies, messages come twice, messages come out of order: all of it converges.
 *
 * - A crash mid-batch: the first half of a batch is reconciled for real (TPNS sees it), then the
 *   invocation throws (a crash or a timeout, as Lambda sees it): SQS hands the WHOLE batch back.
 * - A container that stops mid-batch and never answers: its messages come back after the
 *   visibility timeout and another worker finishes them.
 * - A container that died holding a token's push lease: the token is blocked for at most the
 *   lease's lifetime, then reconciled.
 * - Duplicate deliveries (the same key message twice, in one batch and in two) and out-of-order
 *   deliveries (a read-back before its push, a push of an old intent after a newer operation was
 *   answered, a push after the account's deletion): messages name keys, the worker pushes the
 *   key's current intent, so nothing superseded is ever written after an answer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as bindWorker } from '../../functions/bind-worker.js';
import { handler as login } from '../../functions/login.js';
import { handler as logout } from '../../functions/logout.js';
import { DynamoLedger, LEASE_MS } from '../../lib/ledger/dynamo-ledger.js';
import { keyMessages } from '../../lib/queue/messages.js';
import type { KeyMessage } from '../../lib/queue/messages.js';
import { SqsKeyQueue } from '../../lib/queue/sqs-key-queue.js';
import { LOCAL_CREDENTIALS } from '../../local/sqs/client.js';
import { httpDeleteMe, httpEvent, httpSignIn, httpSignOut, invokeHttp, lambdaContext } from '../integration/functions/harness.js';
import { ADMIN_SCOPE } from './support/drive.js';
import { startReliabilityStack } from './support/stack.js';
import type { ReliabilityStack } from './support/stack.js';
import { sqsRecord as sqsRecordOf } from '../support/sqs-records.js';

class WorkerCrash extends Error {
  override name = 'WorkerCrash';
}

const DEAD = 'crash-dead-token';
let stack: ReliabilityStack;
beforeAll(async () => {
  stack = await startReliabilityStack({ invalidTokens: [DEAD], env: { POWERTOOLS_LOG_LEVEL: 'ERROR' } });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.tpns.clearFaults();
  stack.tpns.setApplyWindow(null);
});

const admin = (handler: typeof login, routeKey: string, body: unknown) => invokeHttp(handler, httpEvent(routeKey, { account: 'ops-admin', scope: ADMIN_SCOPE, body }));

/** Op 2 items TPNS received for this token and account, with their arrival times. */
const bindsOf = (token: string, account: string) =>
  stack.tpns
    .requests()
    .filter((entry) => entry.operatorType === 2 && entry.path.endsWith('batchoperate'))
    .filter((entry) => (entry.requested ?? []).some((item) => 'token' in item && item.token === token && item.accounts?.some((key) => key.account === account)));

const devices = Array.from({ length: 60 }, (_, i) => ({ token: `crash-token-${String(i).padStart(2, '0')}`, platform: 'android' as const }));

describe('worker crash mid-batch', () => {
  it('redelivers the whole batch; the final bindings are as if it had never crashed', { timeout: 60_000 }, async () => {
    const { tpns } = stack;
    // A 61-item bulk bind, recorded and queued (4 key messages) before any worker runs.
    const bulk = await admin(login, 'POST /v1/admin/bindings', {
      items: [...devices.map((d, i) => ({ ...d, account: `crash-user-${i % 7}` })), { token: DEAD, platform: 'android', account: 'crash-user-0' }],
    });
    expect(bulk).toMatchObject({ statusCode: 202, body: { queued: 61, chunks: 4 } });

    let crashes = 0;
    let reconciledBeforeCrash = 0;
    const worker = stack.startWorker({
      concurrency: 1,
      visibilityTimeoutSeconds: 1,
      wrap: (real) => async (event: SQSEvent, context) => {
        if (crashes < 3 && event.Records.length > 1) {
          // Reconcile the first half for real (TPNS sees it), then die before answering.
          const half = event.Records.slice(0, Math.ceil(event.Records.length / 2));
          await real({ Records: half }, context);
          reconciledBeforeCrash += half.length;
          crashes += 1;
          throw new WorkerCrash('the container died mid-batch');
        }
        return real(event, context);
      },
    });
    await stack.quiesce();
    expect(crashes).toBeGreaterThan(0);
    expect(reconciledBeforeCrash).toBeGreaterThan(0);
    // The crashed halves were pushed twice: TPNS saw more bind items than were queued.
    const boundItems = tpns.requests().filter((entry) => entry.operatorType === 2 && entry.httpStatus === 200).reduce((sum, entry) => sum + (entry.items ?? 0), 0);
    expect(boundItems).toBeGreaterThan(devices.length + 1);
    for (const [i, device] of devices.entries()) expect(tpns.accountsOf('android', device.token)).toEqual([{ account: `crash-user-${i % 7}`, accountType: 0 }]);

    // Sign-outs (op 4 directly, read back from the queue) and a queued bulk unbind, crashed through again.
    crashes = 0;
    for (const device of devices.slice(0, 10)) expect((await httpSignOut('crash-user-0', device.token)).statusCode).toBe(200);
    const unbind = await admin(logout, 'POST /v1/admin/unbind-tokens', { platform: 'android', tokens: devices.slice(10, 35).map((d) => d.token) });
    expect(unbind.statusCode).toBe(202);
    await stack.quiesce();
    expect(crashes).toBeGreaterThan(0);

    const state = new Map(tpns.state('android').tokens.map(({ token, accounts }) => [token, accounts]));
    for (const device of devices.slice(0, 35)) expect(state.get(device.token) ?? []).toEqual([]);
    for (const [i, device] of devices.entries()) {
      if (i >= 35) expect(state.get(device.token)).toEqual([{ account: `crash-user-${i % 7}`, accountType: 0 }]);
    }
    // The invalid token is dead-lettered with TPNS's reason and its key (more than once if its
    // message was in a crashed half: a standard queue has no deduplication, a letter is a key to look at again).
    const letters = (await stack.drainDeadLetters()) as { reason: { code: string }; key?: { token: string } }[];
    expect(letters.length).toBeGreaterThan(0);
    expect(letters.map((letter) => [letter.reason.code, letter.key?.token])).toEqual(letters.map(() => ['1008006', DEAD]));
    expect(await stack.sqs.depth()).toEqual({ queued: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
    await worker.stop();
  });

  it('a worker that stops mid-batch and never answers: another worker takes its messages after the visibility timeout', { timeout: 60_000 }, async () => {
    const { tpns } = stack;
    const tokens = Array.from({ length: 24 }, (_, i) => `stall-token-${i}`);
    const bulk = await admin(login, 'POST /v1/admin/bindings', { items: tokens.map((token, i) => ({ token, platform: 'android', account: `stall-user-${i % 3}` })) });
    expect(bulk.statusCode).toBe(202);
    let die!: (error: Error) => void;
    const dead = new Promise<never>((_, reject) => (die = reject));
    let stalled = 0;
    const first = stack.startWorker({
      visibilityTimeoutSeconds: 1,
      batchSize: 10,
      wrap: (real) => async (event: SQSEvent, context) => {
        // Half of it for real, then the container hangs (frozen, out of memory...): no answer, no deletion.
        await real({ Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) }, context);
        stalled += event.Records.length;
        return dead;
      },
    });
    while (stalled === 0) await sleep(20);
    const second = stack.startWorker({ visibilityTimeoutSeconds: 2 });
    await second.drained();
    await tpns.idle();
    for (const [i, token] of tokens.entries()) expect(tpns.accountsOf('android', token)).toEqual([{ account: `stall-user-${i % 3}`, accountType: 0 }]);
    die(new WorkerCrash('the stalled container is finally killed'));
    await first.stop();
    await stack.quiesce();
    expect(await stack.sqs.depth()).toEqual({ queued: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
    await second.stop();
  });

  it('a container that died holding a push lease blocks the token no longer than the lease lasts, then it converges', { timeout: LEASE_MS + 30_000 }, async () => {
    const { tpns } = stack;
    const worker = stack.startWorker({ visibilityTimeoutSeconds: 2 });
    const token = 'lease-orphan-token';
    expect((await httpSignIn('orphan-a1', token)).statusCode).toBe(200);
    await stack.quiesce();
    // What a container leaves behind when it dies between claiming the lease and giving it back.
    const ledger = new DynamoLedger({ tableName: stack.dynamo.tableName, erasureKey: stack.base.env.ERASURE_KEY!, retentionDays: 30 });
    const orphan = await ledger.claim({ platform: 'android', token });
    expect(orphan).toBeDefined();
    const started = Date.now();
    const answer = await httpSignIn('orphan-b2', token);
    // The sign-in waited for the lease a moment, then queued its push: accepted, not applied yet.
    expect(answer).toMatchObject({ statusCode: 202, body: { queued: 1 } });
    expect(tpns.accountsOf('android', token)).toEqual([{ account: 'orphan-a1', accountType: 0 }]);
    while (tpns.accountsOf('android', token)[0]?.account !== 'orphan-b2') {
      expect(Date.now() - started, 'the key was still not reconciled long after the lease expired').toBeLessThan(LEASE_MS + 20_000);
      await sleep(200);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(LEASE_MS - 2_000);
    await stack.quiesce();
    expect(tpns.accountsOf('android', token)).toEqual([{ account: 'orphan-b2', accountType: 0 }]);
    await worker.stop();
  });
});

const sqsRecord = (message: KeyMessage) => sqsRecordOf(message, { eventSourceARN: stack.sqs.queueArn });
const pushOf = (token: string, correlationId: string) => keyMessages([{ kind: 'token', platform: 'android', token }], { phase: 'push', correlationId })[0]!.message;
const verifyOf = (token: string, correlationId: string) => keyMessages([{ kind: 'token', platform: 'android', token }], { phase: 'verify', correlationId })[0]!.message;

describe('duplicate and out-of-order deliveries', () => {
  it('the same key message twice in one batch is reconciled once; twice through the queue, it changes nothing', { timeout: 60_000 }, async () => {
    const { tpns, sqs } = stack;
    const token = 'duplicate-token-1';
    stack.tpns.injectFault({ kind: 'internal', path: 'batchoperate' });
    expect((await httpSignIn('dup-user-1', token)).statusCode).toBe(202);
    stack.tpns.clearFaults();
    const before = bindsOf(token, 'dup-user-1').length;
    const message = pushOf(token, 'dup-1');
    const answer = (await bindWorker({ Records: [sqsRecord(message), sqsRecord(message)] }, lambdaContext())) as { batchItemFailures: unknown[] };
    expect(answer.batchItemFailures).toEqual([]);
    // Both copies' key, coalesced: one op 2 call.
    expect(bindsOf(token, 'dup-user-1').length - before).toBe(1);
    // And the same message twice through the queue, with the worker running.
    const queue = new SqsKeyQueue({ queueUrl: sqs.queueUrl, endpoint: sqs.endpoint, credentials: LOCAL_CREDENTIALS });
    await queue.send([{ message }, { message }, { message: verifyOf(token, 'dup-1') }, { message: verifyOf(token, 'dup-1') }]);
    const worker = stack.startWorker({ visibilityTimeoutSeconds: 2 });
    await stack.quiesce();
    expect(tpns.accountsOf('android', token)).toEqual([{ account: 'dup-user-1', accountType: 0 }]);
    await worker.stop();
  });

  it('a read-back before its push, and an old push after a newer sign-in was answered: the newer one holds and nothing superseded is written after the answer', { timeout: 60_000 }, async () => {
    const { tpns, sqs } = stack;
    const token = 'reorder-token-1';
    const queue = new SqsKeyQueue({ queueUrl: sqs.queueUrl, endpoint: sqs.endpoint, credentials: LOCAL_CREDENTIALS });
    // A's sign-in is recorded and queued (TPNS failing); the worker is not running yet.
    stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    expect((await httpSignIn('reorder-a', token)).statusCode).toBe(202);
    stack.tpns.clearFaults();
    // A read-back of the key arrives first (out of order): TPNS holds nothing yet, the ledger says A.
    await bindWorker({ Records: [sqsRecord(verifyOf(token, 'reorder-early'))] }, lambdaContext());
    await tpns.idle();
    expect(tpns.accountsOf('android', token)).toEqual([{ account: 'reorder-a', accountType: 0 }]);
    // B signs in (applied directly), answered; then A's old push (and another copy of it, late) are delivered.
    expect((await httpSignIn('reorder-b', token)).statusCode).toBe(200);
    const answeredB = Date.now();
    await queue.send([{ message: pushOf(token, 'reorder-late') }]);
    const worker = stack.startWorker({ visibilityTimeoutSeconds: 2 });
    await stack.quiesce();
    expect(tpns.accountsOf('android', token)).toEqual([{ account: 'reorder-b', accountType: 0 }]);
    expect(bindsOf(token, 'reorder-a').filter((entry) => entry.receivedAt > answeredB)).toEqual([]);
    await worker.stop();
  });

  it('a push of a sign-in delivered after the account was deleted never binds the erased account', { timeout: 60_000 }, async () => {
    const { tpns, sqs } = stack;
    const token = 'reorder-token-2';
    stack.tpns.injectFault({ kind: 'internal', path: 'batchoperate' });
    expect((await httpSignIn('reorder-gone', token)).statusCode).toBe(202);
    stack.tpns.clearFaults();
    expect((await httpDeleteMe('reorder-gone')).statusCode).toBe(200);
    const erasedAt = Date.now();
    const queue = new SqsKeyQueue({ queueUrl: sqs.queueUrl, endpoint: sqs.endpoint, credentials: LOCAL_CREDENTIALS });
    await queue.send([{ message: pushOf(token, 'gone-late') }, { message: verifyOf(token, 'gone-late') }]);
    const worker = stack.startWorker({ visibilityTimeoutSeconds: 2 });
    await stack.quiesce();
    expect(tpns.tokensOf('android', 'reorder-gone')).toEqual([]);
    expect(bindsOf(token, 'reorder-gone').filter((entry) => entry.receivedAt > erasedAt)).toEqual([]);
    await worker.stop();
  });
});
