/**
 * `reconcileBatch` (lib/worker/reconcile-batch.ts) on real parts: the runtime the deployed
 * worker builds (TPNS client to the emulator, the ledger on dynalite, the queues on fauxqs),
 * called with SQS events built from v2 key messages. What it answers (batchItemFailures), what it
 * sends to TPNS, what it queues next and what it dead-letters.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listDevices } from '../../../lib/commands/list-devices.js';
import { deleteAccount } from '../../../lib/commands/delete-account.js';
import { erasureStatus } from '../../../lib/commands/erasure-status.js';
import { signIn } from '../../../lib/commands/sign-in.js';
import { signOut } from '../../../lib/commands/sign-out.js';
import { keyLetter } from '../../../lib/queue/dead-letter.js';
import type { KeyMessage, ReconcileKey } from '../../../lib/queue/messages.js';
import { SqsKeyQueue } from '../../../lib/queue/sqs-key-queue.js';
import { nextVersion } from '../../../lib/ledger/records.js';
import { SEND_WINDOW_MS } from '../../../lib/convergence/push.js';
import { MAX_PUSH_ATTEMPTS } from '../../../lib/convergence/reconciler.js';
import { STEP_KEYS, reconcileBatch, reserveOf } from '../../../lib/worker/reconcile-batch.js';
import { logger } from '../../../lib/observability/logger.js';
import { captureOutput } from '../../support/output.js';
import { TEST_VERIFY_DELAY_SECONDS, freshName } from '../../support/stack.js';
import { queuedKeyMessages } from '../functions/harness.js';
import { keyMessage, startWorkerHarness, tokenKey } from './harness.js';
import { batchCalls, readBackCalls, tokensOf } from '../../support/tpns-calls.js';
import { sqsEvent, sqsRecord } from '../../support/sqs-records.js';
import type { WorkerHarness } from './harness.js';

const MAX_VERIFY_ATTEMPTS = 3;

let h: WorkerHarness;
beforeAll(async () => {
  h = await startWorkerHarness({ env: { MAX_VERIFY_ATTEMPTS: String(MAX_VERIFY_ATTEMPTS) } });
});
afterAll(() => h.close());
beforeEach(async () => {
  h.stack.tpns.reset();
  h.stack.dynamo.faults.clear();
  await h.takeDeadLetters();
});

const fresh = freshName;
const meta = () => ({ correlationId: fresh('setup') });

/** Records a sign-in in the ledger without pushing it (as a bulk or a failed direct attempt leaves it). */
async function recorded(token: string, account: string, platform: 'android' | 'ios' = 'android') {
  const key = { platform, token };
  await h.runtime.ledger.indexAccount([{ key, ref: { account } }]);
  await h.runtime.ledger.recordSignIn(key, { account }, { claim: false });
}

const run = (messages: (KeyMessage | string)[]) => {
  const records = messages.map((message) => sqsRecord(message));
  return { records, response: reconcileBatch(sqsEvent(records), h.runtime) };
};
const failedIds = async (response: Promise<{ batchItemFailures: { itemIdentifier: string }[] }>) =>
  (await response).batchItemFailures.map((failure) => failure.itemIdentifier);
/** Follow-ups queued under any of these correlation ids (each key's follow-up carries the request that named it). */
const followUps = async (...correlationIds: string[]) =>
  (await queuedKeyMessages(h.stack.sqs)).filter(({ message }) => correlationIds.includes(message.correlationId));
/** The last read-back a key is allowed: it must repair nothing and queue nothing more; its dead letters, and the source they must name. */
async function lastReadBack(key: ReconcileKey) {
  const before = batchCalls(h.stack.tpns).length;
  const message = keyMessage('verify', [key], MAX_VERIFY_ATTEMPTS - 1);
  const { records, response } = run([message]);
  expect(await failedIds(response)).toEqual([]);
  expect(batchCalls(h.stack.tpns)).toHaveLength(before); // no more repairs
  expect(await followUps(message.correlationId)).toEqual([]);
  const { letters } = await h.takeDeadLetters();
  return { letters, source: { messageId: records[0]!.messageId, correlationId: message.correlationId } };
}
const stateOf = async (account: string, token: string) =>
  (await listDevices(h.runtime, { account })).devices.find((device) => device.token === token)?.state;

describe('invalid messages', () => {
  it('are dead-lettered with the reason and their body, acknowledged, and cost no TPNS call', async () => {
    const bodies = [
      'not json',
      JSON.stringify({ v: 1, kind: 'bind', platform: 'android', correlationId: 'old', acceptedAt: '2025-01-01T00:00:00Z', items: [{ token: 't', account: 'alice' }] }),
      JSON.stringify(keyMessage('push', [tokenKey('has space')])),
      JSON.stringify(keyMessage('verify', [])),
      JSON.stringify(keyMessage('push', Array.from({ length: 21 }, (_, i) => tokenKey(`too-many-${i}`)))),
    ];
    const { records, response } = run(bodies);
    expect(await failedIds(response)).toEqual([]);
    expect(h.stack.tpns.requests()).toHaveLength(0);
    const { letters, redriven } = await h.takeDeadLetters();
    expect(redriven).toEqual([]);
    expect(letters.map((letter) => [letter.source.messageId, letter.reason.code, letter.body])).toEqual(
      records.map((record) => [record.messageId, 'INVALID_MESSAGE', record.body]),
    );
    expect(letters[0]!.reason.message).toBe('body is not JSON');
    expect(letters[1]!.reason.message).toMatch(/^not a v2 key message: /);
    expect(letters[2]!.reason.message).toMatch(/keys\.0\.token: /);
    expect(letters[4]!.reason.message).toMatch(/keys: /);
  });

  it('does not hold up the valid messages of the same batch', async () => {
    const token = fresh('tok-valid');
    await recorded(token, 'valid-1');
    const { response } = run(['{"v":2}', keyMessage('push', [tokenKey(token)])]);
    expect(await failedIds(response)).toEqual([]);
    expect(h.stack.tpns.accountsOf('android', token)).toEqual([{ account: 'valid-1', accountType: 0 }]);
    expect((await h.takeDeadLetters()).letters.map((letter) => letter.reason.code)).toEqual(['INVALID_MESSAGE']);
  });
});

describe('a batch that runs short of time', () => {
  it(`pushes the first ${STEP_KEYS} keys, queues the rest again as they came (same attempt, no delay), and fails no message; the rest converge from the queue`, async () => {
    const tokens = Array.from({ length: STEP_KEYS + 50 }, (_, i) => fresh(`tok-late-${i}`));
    await Promise.all(tokens.map((token, i) => recorded(token, `late-${i}`)));
    const messages = Array.from({ length: tokens.length / 10 }, (_, m) => keyMessage('push', tokens.slice(m * 10, m * 10 + 10).map((token) => tokenKey(token)), 3));
    const level = logger.getLevelName();
    logger.setLogLevel('WARN'); // the harness runs at ERROR
    const output = captureOutput();
    let failed: string[];
    try {
      // The invocation is at its end: only each part's first step runs.
      failed = await failedIds(reconcileBatch(sqsEvent(messages.map((message) => sqsRecord(message))), h.runtime, { endsAt: Date.now() }));
    } finally {
      output.stop();
      logger.setLogLevel(level);
    }
    expect(failed).toEqual([]);
    expect(output).toHaveLogged({ level: 'WARN', message: 'Batch ran short of time; its remaining keys are queued again', keys: 50 });
    const pushed = batchCalls(h.stack.tpns, 2).flatMap(tokensOf);
    expect(pushed).toHaveLength(STEP_KEYS);
    const queued = await followUps(...messages.map((message) => message.correlationId));
    const again = queued.filter(({ message }) => message.phase === 'push');
    // Each key keeps its own request's correlation id and its attempt, and waits for nothing.
    expect(again.every(({ message, delaySeconds }) => message.attempt === 3 && delaySeconds === 0)).toBe(true);
    const handedBack = again.flatMap(({ message }) => (message.phase === 'push' ? message.keys : [])).map((key) => (key.kind === 'token' ? key.token : ''));
    expect(new Set([...pushed, ...handedBack])).toEqual(new Set(tokens));
    expect(handedBack).toHaveLength(50);

    // The queued keys, delivered as the next batch, are pushed like any other.
    expect(await failedIds(run(again.map(({ message }) => message)).response)).toEqual([]);
    for (const [i, token] of tokens.entries()) expect(h.stack.tpns.accountsOf('android', token), token).toEqual([{ account: `late-${i}`, accountType: 0 }]);
  });

  it('loses no handed-back key when the follow-ups cannot be queued: every message fails, and redelivered the batch converges', async () => {
    const tokens = Array.from({ length: STEP_KEYS + 40 }, (_, i) => fresh(`tok-late-noqueue-${i}`));
    await Promise.all(tokens.map((token, i) => recorded(token, `late-noqueue-${i}`)));
    const messages = Array.from({ length: tokens.length / 20 }, (_, m) => keyMessage('push', tokens.slice(m * 20, m * 20 + 20).map((token) => tokenKey(token))));
    const records = messages.map((message) => sqsRecord(message));
    const queue = new SqsKeyQueue({ queueUrl: 'http://127.0.0.1:9/000000000000/unreachable', endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const first = await reconcileBatch(sqsEvent(records), { ...h.runtime, queue }, { endsAt: Date.now() });
    // The first step was pushed, the rest was to be handed back: neither its read-backs nor the rest may be dropped.
    expect(first.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(records.map((record) => record.messageId).sort());
    expect(batchCalls(h.stack.tpns, 2).flatMap(tokensOf)).toHaveLength(STEP_KEYS);

    // SQS delivers every message again; this invocation has time for all of them.
    expect(await failedIds(reconcileBatch(sqsEvent(records), h.runtime))).toEqual([]);
    for (const [i, token] of tokens.entries()) expect(h.stack.tpns.accountsOf('android', token), token).toEqual([{ account: `late-noqueue-${i}`, accountType: 0 }]);
    const verifies = (await followUps(...messages.map((message) => message.correlationId))).flatMap(({ message }) => (message.phase === 'verify' ? message.keys : []));
    expect(new Set(verifies.map((key) => (key.kind === 'token' ? key.token : '')))).toEqual(new Set(tokens));
  });

  it('a step that fails fails only the messages whose keys it held; the next step of the part still runs', async () => {
    const tokens = Array.from({ length: 2 * STEP_KEYS }, (_, i) => fresh(`tok-steps-${i}`));
    await Promise.all(tokens.map((token, i) => recorded(token, `steps-${i}`)));
    for (let start = 0; start < tokens.length; start += 20) await h.runtime.tpns.bind('android', tokens.slice(start, start + 20).map((token, i) => ({ token, account: `steps-${start + i}` })));
    const records = Array.from({ length: tokens.length / 20 }, (_, m) => sqsRecord(keyMessage('verify', tokens.slice(m * 20, m * 20 + 20).map((token) => tokenKey(token)))));
    // The first step's first ledger read fails on every attempt the SDK makes (the ledger's client uses its default); the second step's reads pass.
    const attempts = await new DynamoDBClient({}).config.maxAttempts();
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'BatchGetItem', count: attempts });
    const failed = await failedIds(reconcileBatch(sqsEvent(records), h.runtime));
    const firstStep = records.slice(0, STEP_KEYS / 20).map((record) => record.messageId);
    expect(failed.sort()).toEqual([...firstStep].sort());
    for (const [i, token] of tokens.entries()) expect(await stateOf(`steps-${i}`, token), token).toBe(i < STEP_KEYS ? 'pending' : 'verified');

    // Delivered again, the first step's messages are verified too.
    expect(await failedIds(reconcileBatch(sqsEvent(records.filter((record) => firstStep.includes(record.messageId))), h.runtime))).toEqual([]);
    for (const [i, token] of tokens.entries()) expect(await stateOf(`steps-${i}`, token), token).toBe('verified');
  });

  it('keeps back a quarter of a short invocation, at most 15 s of a long one, and twice the longest step when steps run long', () => {
    expect(reserveOf(60_000)).toBe(15_000);
    expect(reserveOf(10_000)).toBe(2_500);
    expect(reserveOf(60_000, 4_000)).toBe(15_000);
    expect(reserveOf(60_000, 12_000)).toBe(24_000);
  });
});

describe('pushing', () => {
  it('pushes 250 keys of one app in full calls of 20, each key read back later', async () => {
    const tokens = Array.from({ length: 250 }, (_, i) => fresh(`tok-slice-${i}`));
    await Promise.all(tokens.map((token, i) => recorded(token, `slice-${i}`)));
    const messages = Array.from({ length: 13 }, (_, m) => keyMessage('push', tokens.slice(m * 20, m * 20 + 20).map((token) => tokenKey(token))));
    expect(await failedIds(run(messages).response)).toEqual([]);
    const binds = batchCalls(h.stack.tpns, 2);
    expect(binds).toHaveLength(13);
    expect(binds.flatMap(tokensOf).sort()).toEqual([...tokens].sort());
    const verifies = (await followUps(...messages.map((message) => message.correlationId))).flatMap(({ message }) => (message.phase === 'verify' ? message.keys : []));
    expect(verifies).toHaveLength(250);
  });

  it('a claim that fails fails its message and gives back the leases the other claims took: redelivered at once, every key is pushed', async () => {
    const tokens = Array.from({ length: 5 }, (_, i) => fresh(`tok-claimfail-${i}`));
    await Promise.all(tokens.map((token, i) => recorded(token, `claimfail-${i}`)));
    // The five claims (UpdateItems) go out together: two pass, three fail on every attempt the SDK makes; then DynamoDB is well.
    const attempts = await new DynamoDBClient({}).config.maxAttempts();
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'UpdateItem', after: 2, count: 3 * attempts });
    const { records, response } = run([keyMessage('push', tokens.map((token) => tokenKey(token)))]);
    expect(await failedIds(response)).toEqual([records[0]!.messageId]);
    expect(batchCalls(h.stack.tpns, 2)).toEqual([]);
    const leases = await h.runtime.ledger.getTokens(tokens.map((token) => ({ platform: 'android' as const, token })));
    expect([...leases.values()].map((record) => record.lease)).toEqual(tokens.map(() => undefined));

    // SQS delivers it again: no lease is left to wait out, so every key is pushed now.
    expect(await failedIds(reconcileBatch(sqsEvent(records), h.runtime))).toEqual([]);
    for (const [i, token] of tokens.entries()) expect(h.stack.tpns.accountsOf('android', token), token).toEqual([{ account: `claimfail-${i}`, accountType: 0 }]);
  });

  it('a claim that fails while DynamoDB refuses the releases too: the message fails with nothing sent, and the leases taken run out by themselves', async () => {
    const tokens = Array.from({ length: 5 }, (_, i) => fresh(`tok-claimfail-norelease-${i}`));
    await Promise.all(tokens.map((token, i) => recorded(token, `claimfail-norelease-${i}`)));
    // Two claims pass; every UpdateItem after them fails: three claims and the two releases.
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'UpdateItem', after: 2 });
    const { records, response } = run([keyMessage('push', tokens.map((token) => tokenKey(token)))]);
    expect(await failedIds(response)).toEqual([records[0]!.messageId]);
    h.stack.dynamo.faults.clear();
    expect(batchCalls(h.stack.tpns, 2)).toEqual([]);
    const leases = await h.runtime.ledger.getTokens(tokens.map((token) => ({ platform: 'android' as const, token })));
    expect([...leases.values()].filter((record) => record.lease && record.lease.until > Date.now())).toHaveLength(2);
  });

  it(`sends all of a ${STEP_KEYS}-key step when TPNS is slow: each call's keys are read right before it, never a send window (${SEND_WINDOW_MS} ms) earlier`, async () => {
    // 10 calls, 4 at a time (TPNS_CONCURRENCY's default), each answered 700 ms late: the third
    // round starts 1.4 s after the first. Decided from one read of the whole step, its 40 keys
    // would miss their window and be queued again.
    expect(h.runtime.tpns.concurrency).toBe(4);
    h.stack.tpns.injectFault({ kind: 'latency', latencyMs: 700, path: 'batchoperate' });
    const tokens = Array.from({ length: STEP_KEYS }, (_, i) => fresh(`tok-slow-${i}`));
    await Promise.all(tokens.map((token, i) => recorded(token, `slow-${i}`)));
    const messages = Array.from({ length: STEP_KEYS / 20 }, (_, m) => keyMessage('push', tokens.slice(m * 20, m * 20 + 20).map((token) => tokenKey(token))));
    expect(await failedIds(run(messages).response)).toEqual([]);
    const binds = batchCalls(h.stack.tpns, 2);
    expect(binds.flatMap(tokensOf).sort()).toEqual([...tokens].sort());
    const arrivals = binds.map((entry) => entry.receivedAt);
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeGreaterThan(SEND_WINDOW_MS);
    const queued = (await followUps(...messages.map((message) => message.correlationId))).map(({ message }) => message);
    expect(queued.filter((message) => message.phase !== 'verify')).toEqual([]);
    expect(queued.flatMap((message) => (message.phase === 'verify' ? message.keys : []))).toHaveLength(STEP_KEYS);
  });

  it('fails a step whose one call group cannot read the ledger only once the other group\'s slow call was answered, holding every lease until then', async () => {
    // Two call groups of 20 decided at once (TPNS concurrency 4): the first BatchGetItem to
    // arrive passes and its group's call is held 1.5 s; every SDK attempt of the other fails.
    const LATENCY_MS = 1_500;
    const tokens = Array.from({ length: 40 }, (_, i) => fresh(`tok-halfread-${i}`));
    await Promise.all(tokens.map((token, i) => recorded(token, `halfread-${i}`)));
    const attempts = await new DynamoDBClient({}).config.maxAttempts();
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'BatchGetItem', after: 1, count: attempts });
    h.stack.tpns.injectFault({ kind: 'latency', latencyMs: LATENCY_MS, path: 'batchoperate' });
    const messages = [keyMessage('push', tokens.slice(0, 20).map((token) => tokenKey(token))), keyMessage('push', tokens.slice(20).map((token) => tokenKey(token)))];
    const { records, response } = run(messages);
    let answeredAt: number | undefined;
    const answered = response.finally(() => {
      answeredAt = Date.now();
    });
    // One token of each group, watched while the step runs (GetItem: the fault is on BatchGetItem).
    const watched = [tokens[0]!, tokens[20]!].map((token) => ({ platform: 'android' as const, token }));
    const samples: { from: number; to: number; held: number }[] = [];
    while (answeredAt === undefined) {
      const from = Date.now();
      const held = (await Promise.all(watched.map((key) => h.runtime.ledger.getToken(key)))).filter((record) => record?.lease).length;
      samples.push({ from, to: Date.now(), held });
      await sleep(50);
    }
    expect((await failedIds(answered)).sort()).toEqual(records.map((record) => record.messageId).sort());
    // The emulator logs a call once it answered it: wait for it, should the step have answered first.
    for (const until = Date.now() + 2 * LATENCY_MS; batchCalls(h.stack.tpns, 2).length === 0 && Date.now() < until; ) await sleep(50);
    const binds = batchCalls(h.stack.tpns, 2);
    expect(binds).toHaveLength(1); // the group that read the ledger sent; the other decided nothing
    const callEnd = binds[0]!.receivedAt + LATENCY_MS;
    expect(answeredAt).toBeGreaterThanOrEqual(callEnd);
    // Every lease of the push stays taken while its send is in flight (reads that began and ended within it).
    const inFlight = samples.filter(({ from, to }) => from >= binds[0]!.receivedAt && to <= callEnd);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.filter(({ held }) => held < watched.length)).toEqual([]);
    // And every lease is given back once the step failed.
    for (const token of tokens) expect((await h.runtime.ledger.getToken({ platform: 'android', token }))?.lease, token).toBeUndefined();
  });

  it('pushes a key named by several messages of the batch once, and queues one read-back of each key', async () => {
    const [a, b] = [fresh('tok-dup-a'), fresh('tok-dup-b')];
    await recorded(a, 'dup-alice');
    await recorded(b, 'dup-bob');
    const first = keyMessage('push', [tokenKey(a)]);
    const batch = [first, keyMessage('push', [tokenKey(a)]), keyMessage('push', [tokenKey(a), tokenKey(b)]), first];
    const { response } = run(batch);
    expect(await failedIds(response)).toEqual([]);
    const calls = batchCalls(h.stack.tpns);
    expect(calls).toHaveLength(1);
    expect(tokensOf(calls[0]!).sort()).toEqual([a, b].sort());
    expect(h.stack.tpns.accountsOf('android', a)).toEqual([{ account: 'dup-alice', accountType: 0 }]);
    const queued = await followUps(...batch.map((message) => message.correlationId));
    expect(queued.every(({ message, delaySeconds }) => message.phase === 'verify' && delaySeconds === TEST_VERIFY_DELAY_SECONDS)).toBe(true);
    const keys = queued.flatMap(({ message }) => (message.phase === 'record' ? [] : message.keys));
    // One read-back per key, whatever the number of messages that named it.
    expect(keys.map((key) => (key.kind === 'token' ? key.token : '')).sort()).toEqual([a, b].sort());
    expect(await stateOf('dup-alice', a)).toBe('applied');
  });

  it('pushes the current intent, whatever the messages: a key signed out since is cleared, not bound', async () => {
    const token = fresh('tok-current');
    await recorded(token, 'was-here');
    await h.runtime.ledger.recordSignOut({ platform: 'android', token }, { claim: false });
    const { response } = run([keyMessage('push', [tokenKey(token)])]);
    expect(await failedIds(response)).toEqual([]);
    expect(batchCalls(h.stack.tpns).map((call) => call.operatorType)).toEqual([4]);
  });

  it('only pushes a key that is also to be verified in the same batch: the push queues its own read-back', async () => {
    const token = fresh('tok-both');
    await recorded(token, 'both-1');
    const push = keyMessage('push', [tokenKey(token)]);
    const { response } = run([keyMessage('verify', [tokenKey(token)]), push]);
    expect(await failedIds(response)).toEqual([]);
    expect(batchCalls(h.stack.tpns, 2)).toHaveLength(1);
    expect(readBackCalls(h.stack.tpns)).toHaveLength(0);
    expect((await followUps(push.correlationId)).map(({ message }) => message.phase)).toEqual(['verify']);
  });

  it('re-queues a push (attempt + 1, backed off) when TPNS fails retryably, and acknowledges the record', async () => {
    const token = fresh('tok-retry');
    await recorded(token, 'retry-1');
    h.stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    const message = keyMessage('push', [tokenKey(token)], 2);
    const { response } = run([message]);
    expect(await failedIds(response)).toEqual([]);
    expect(batchCalls(h.stack.tpns).length).toBeGreaterThan(0);
    const queued = await followUps(message.correlationId);
    expect(queued).toEqual([
      { message: { ...message, attempt: 3 }, delaySeconds: 4, sentAt: expect.any(Number) as number },
    ]);
    expect(await stateOf('retry-1', token)).toBe('pending');
    expect((await h.takeDeadLetters()).letters).toEqual([]);
  });

  it("waits at least TPNS's Retry-After before the re-queued push (20 s asked, the backoff alone would be 4 s)", async () => {
    const token = fresh('tok-retry-after');
    await recorded(token, 'retry-after-1');
    h.stack.tpns.injectFault({ kind: 'rate-limit', path: 'batchoperate', retryAfterSeconds: 20 });
    const message = keyMessage('push', [tokenKey(token)], 2);
    expect(await failedIds(run([message]).response)).toEqual([]);
    expect(batchCalls(h.stack.tpns)).toHaveLength(1); // the worker's budget is spent in the queue, not in a sleep
    const queued = await followUps(message.correlationId);
    expect(queued.map(({ message: m, delaySeconds }) => [m.phase, m.attempt, delaySeconds])).toEqual([['push', 3, 20]]);
  });

  it('dead-letters a key whose queued pushes kept failing retryably, after MAX_PUSH_ATTEMPTS, instead of queueing it again', async () => {
    const token = fresh('tok-exhausted');
    await recorded(token, 'exhausted-1');
    h.stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    const message = keyMessage('push', [tokenKey(token)], MAX_PUSH_ATTEMPTS - 1);
    const { records, response } = run([message]);
    expect(await failedIds(response)).toEqual([]);
    expect(await followUps(message.correlationId)).toEqual([]);
    const { letters } = await h.takeDeadLetters();
    expect(letters).toEqual([
      expect.objectContaining({
        key: tokenKey(token),
        reason: { code: expect.any(String) as string, message: expect.stringMatching(new RegExp(`after ${MAX_PUSH_ATTEMPTS} attempts`)) as string },
        source: { messageId: records[0]!.messageId, correlationId: message.correlationId },
      }),
    ]);
  });

  it('dead-letters a key TPNS refuses for good, with the code, and does not retry it', async () => {
    const [good, bad] = [fresh('tok-good'), fresh('tok-bad')];
    await recorded(good, 'good-1');
    await recorded(bad, 'bad-1');
    h.stack.tpns.setInvalidTokens([bad]);
    const message = keyMessage('push', [tokenKey(good), tokenKey(bad)]);
    const { records, response } = run([message]);
    expect(await failedIds(response)).toEqual([]);
    expect(batchCalls(h.stack.tpns)).toHaveLength(1);
    const { letters } = await h.takeDeadLetters();
    expect(letters).toEqual([
      expect.objectContaining({
        v: 2,
        type: 'dead-letter',
        reason: { code: '1008006', message: expect.any(String) as string },
        key: tokenKey(bad),
        source: { messageId: records[0]!.messageId, correlationId: message.correlationId },
      }),
    ]);
    const queued = await followUps(message.correlationId);
    expect(queued.flatMap(({ message: m }) => (m.phase === 'record' ? [] : m.keys))).toEqual([tokenKey(good)]);
    expect(await stateOf('bad-1', bad)).toBe('drift');
  });

  it('records the sign-ins of a record message (the ledger was down at sign-in) at their version, and pushes them; a superseded one is dropped', async () => {
    const [kept, superseded] = [fresh('tok-rec'), fresh('tok-sup')];
    const old = nextVersion();
    await h.runtime.ledger.recordSignOut({ platform: 'ios', token: superseded }, { claim: false }); // newer than `old`
    const message: KeyMessage = {
      v: 2,
      phase: 'record',
      correlationId: fresh('cognito'),
      attempt: 0,
      signIns: [
        { platform: 'ios', token: kept, account: 'cognito-1', v: nextVersion() },
        { platform: 'ios', token: superseded, account: 'cognito-2', v: old },
      ],
    };
    const { response } = run([message]);
    expect(await failedIds(response)).toEqual([]);
    expect(batchCalls(h.stack.tpns, 2).flatMap(tokensOf)).toEqual([kept]);
    expect(h.stack.tpns.accountsOf('ios', kept)).toEqual([{ account: 'cognito-1', accountType: 0 }]);
    expect(await stateOf('cognito-1', kept)).toBe('applied');
    expect((await listDevices(h.runtime, { account: 'cognito-2' })).devices).toEqual([]);
  });

  it('coalesces 40 queued sign-ins across both apps into 2 op-2 calls, and their 40 read-backs into 2 query calls', async () => {
    const tokens = Array.from({ length: 40 }, (_, i) => ({ token: fresh(`tok-burst-${i}`), platform: i % 2 === 0 ? ('android' as const) : ('ios' as const), account: `burst-${i}` }));
    await Promise.all(tokens.map(({ token, platform, account }) => recorded(token, account, platform)));
    const pushes = tokens.map(({ token, platform }) => keyMessage('push', [tokenKey(token, platform)]));
    const { response } = run(pushes);
    expect(await failedIds(response)).toEqual([]);
    const binds = batchCalls(h.stack.tpns, 2);
    expect(binds.length).toBeLessThanOrEqual(2);
    expect(binds.map((call) => call.platform).sort()).toEqual(['android', 'ios']);
    expect(binds.flatMap(tokensOf).sort()).toEqual(tokens.map(({ token }) => token).sort());

    // The read-backs they queued, as the next batch.
    const verifies = (await followUps(...pushes.map((message) => message.correlationId))).map(({ message }) => message);
    expect(verifies.every((message) => message.phase === 'verify')).toBe(true);
    await h.stack.tpns.idle();
    const next = run(verifies);
    expect(await failedIds(next.response)).toEqual([]);
    expect(readBackCalls(h.stack.tpns).length).toBeLessThanOrEqual(2);
    expect(batchCalls(h.stack.tpns)).toHaveLength(binds.length); // all equal: no repair
    for (const { token, account } of [tokens[0]!, tokens[39]!]) expect(await stateOf(account, token)).toBe('verified');
  });
});

describe('verifying', () => {
  it('marks the device verified when TPNS holds the intent, writing nothing', async () => {
    const token = fresh('tok-eq');
    expect(await signIn(h.runtime, { account: 'equal-1', token, platform: 'ios' }, meta())).toMatchObject({ status: 200 });
    expect(await stateOf('equal-1', token)).toBe('applied');
    h.stack.tpns.reset();
    await h.runtime.tpns.bind('ios', [{ token, account: 'equal-1' }]);
    const writesBefore = batchCalls(h.stack.tpns).length;
    const message = keyMessage('verify', [tokenKey(token, 'ios')]);
    expect(await failedIds(run([message]).response)).toEqual([]);
    expect(readBackCalls(h.stack.tpns)).toHaveLength(1);
    expect(batchCalls(h.stack.tpns)).toHaveLength(writesBefore);
    expect(await stateOf('equal-1', token)).toBe('verified');
    expect(await followUps(message.correlationId)).toEqual([]);
  });

  it('repairs a key TPNS holds differently with one call, and queues another read-back with attempt + 1', async () => {
    const token = fresh('tok-diff');
    await signIn(h.runtime, { account: 'rightful-1', token, platform: 'android' }, meta());
    // Something else (the mobile SDK, a lost task) bound another account of the same type.
    await h.runtime.tpns.bind('android', [{ token, account: 'intruder-1' }]);
    const before = batchCalls(h.stack.tpns).length;
    const message = keyMessage('verify', [tokenKey(token)], 1);
    expect(await failedIds(run([message]).response)).toEqual([]);
    const repairs = batchCalls(h.stack.tpns).slice(before);
    expect(repairs.map((call) => [call.operatorType, tokensOf(call)])).toEqual([[2, [token]]]);
    expect(h.stack.tpns.accountsOf('android', token)).toEqual([{ account: 'rightful-1', accountType: 0 }]);
    expect(await followUps(message.correlationId)).toEqual([
      // Backed off: the verify delay doubled per attempt so far.
      { message: { ...message, attempt: 2 }, delaySeconds: TEST_VERIFY_DELAY_SECONDS * 2, sentAt: expect.any(Number) as number },
    ]);
    expect(await stateOf('rightful-1', token)).not.toBe('verified');
  });

  it('repairs a signed-out token that still holds an account with op 4', async () => {
    const token = fresh('tok-out');
    await signOut(h.runtime, { account: 'leaver-1', token, platform: 'android' }, meta());
    await h.runtime.tpns.bind('android', [{ token, account: 'leaver-1' }]);
    const before = batchCalls(h.stack.tpns).length;
    expect(await failedIds(run([keyMessage('verify', [tokenKey(token)])]).response)).toEqual([]);
    expect(batchCalls(h.stack.tpns).slice(before).map((call) => call.operatorType)).toEqual([4]);
    expect(h.stack.tpns.accountsOf('android', token)).toEqual([]);
  });

  it(`dead-letters a key still different after MAX_VERIFY_ATTEMPTS (${MAX_VERIFY_ATTEMPTS}) read-backs, with desired and actual`, async () => {
    const token = fresh('tok-stuck');
    await signIn(h.runtime, { account: 'stuck-1', token, platform: 'android' }, meta());
    await h.runtime.tpns.bind('android', [{ token, account: 'squatter-1' }]);
    const { letters, source } = await lastReadBack(tokenKey(token));
    expect(letters).toEqual([
      expect.objectContaining({
        reason: { code: 'NOT_CONVERGING', message: expect.stringMatching(new RegExp(`after ${MAX_VERIFY_ATTEMPTS} read-backs`)) as string },
        key: tokenKey(token),
        desired: { empty: false, bound: [{ account: 'stuck-1', accountType: 0 }], absent: [], v: expect.any(Number) as number },
        actual: [{ account: 'squatter-1', accountType: 0 }],
        source,
      }),
    ]);
    expect(await stateOf('stuck-1', token)).toBe('drift');
  });

  it('reads back and repairs the key of a dead letter redriven to the queue', async () => {
    const token = fresh('tok-redriven');
    await signIn(h.runtime, { account: 'redriven-1', token, platform: 'android' }, meta());
    await h.runtime.tpns.bind('android', [{ token, account: 'someone-else' }]);
    const letter = keyLetter(tokenKey(token), { code: 'NOT_CONVERGING', message: 'still different' }, { messageId: 'm-old', correlationId: 'c-old' });
    expect(await failedIds(run([JSON.stringify(letter)]).response)).toEqual([]);
    expect(h.stack.tpns.accountsOf('android', token)).toEqual([{ account: 'redriven-1', accountType: 0 }]);
    expect((await followUps('c-old')).map(({ message }) => [message.phase, message.attempt])).toEqual([['verify', 1]]);
  });
});

describe('erasure keys', () => {
  it('push: op 5 on both apps, applied on the receipt; verify: marked verified', async () => {
    const account = fresh('erased');
    const token = fresh('tok-erased');
    await signIn(h.runtime, { account, token, platform: 'ios' }, meta());
    await h.runtime.ledger.recordDeletion({ account }, h.runtime.tpns.platforms);
    const push = keyMessage('push', [{ kind: 'erasure', account }]);
    expect(await failedIds(run([push]).response)).toEqual([]);
    expect(batchCalls(h.stack.tpns, 5).map((call) => call.platform).sort()).toEqual(['android', 'ios']);
    expect(h.stack.tpns.tokensOf('ios', account)).toEqual([]);
    expect(await erasureStatus(h.runtime, { account })).toMatchObject({ state: 'applied' });
    const verifies = (await followUps(push.correlationId)).map(({ message }) => message);
    expect(verifies.map((message) => message.phase)).toEqual(['verify']);
    expect(await failedIds(run(verifies).response)).toEqual([]);
    expect(await erasureStatus(h.runtime, { account })).toMatchObject({ state: 'verified' });
  });

  it('verify: an erased account found on a token again is removed from exactly that token (op 3), and read back again', async () => {
    const account = fresh('erased-again');
    await h.runtime.ledger.recordDeletion({ account }, h.runtime.tpns.platforms);
    await h.runtime.tpns.bind('android', [{ token: fresh('tok-ghost'), account }]);
    const message = keyMessage('verify', [{ kind: 'erasure', account }]);
    const before = batchCalls(h.stack.tpns).length;
    expect(await failedIds(run([message]).response)).toEqual([]);
    expect(batchCalls(h.stack.tpns).slice(before).map((call) => [call.operatorType, call.platform])).toEqual([[3, 'android']]);
    expect(h.stack.tpns.tokensOf('android', account)).toEqual([]);
    expect((await followUps(message.correlationId)).map(({ message: m }) => [m.phase, m.attempt])).toEqual([['verify', 1]]);
  });

  it(`verify: dead-letters an erasure still bound after MAX_VERIFY_ATTEMPTS (${MAX_VERIFY_ATTEMPTS}) read-backs, with the tokens that hold it`, async () => {
    const [account, ghost] = [fresh('erased-stuck'), fresh('tok-ghost')];
    await h.runtime.ledger.recordDeletion({ account }, h.runtime.tpns.platforms);
    await h.runtime.tpns.bind('android', [{ token: ghost, account }]); // the app's SDK keeps binding it
    const unsettled = async () => (await h.runtime.ledger.unsettledBefore(Date.now() + 60_000, 100_000)).erasures.filter((ref) => ref.account === account);
    expect(await unsettled()).toEqual([{ account }]);
    const { letters, source } = await lastReadBack({ kind: 'erasure', account });
    // The operator's now, through the dead letter: the sweep does not start it over, and the seal is gone.
    expect(await unsettled()).toEqual([]);
    expect(letters).toEqual([
      expect.objectContaining({
        reason: { code: 'NOT_CONVERGING', message: expect.stringMatching(new RegExp(`still bound after ${MAX_VERIFY_ATTEMPTS} read-backs`)) as string },
        key: { kind: 'erasure', account },
        actual: { android: [ghost] },
        source,
      }),
    ]);
    expect(await erasureStatus(h.runtime, { account })).toMatchObject({ state: 'pending' });
  });
});

describe('outages', () => {
  it('a ledger outage fails the records that need it (SQS redelivers them) and writes nothing to TPNS', async () => {
    const token = fresh('tok-noledger');
    await recorded(token, 'noledger-1');
    h.stack.dynamo.faults.add({ kind: 'InternalServerError' });
    const { records, response } = run([keyMessage('push', [tokenKey(token)]), keyMessage('verify', [tokenKey(fresh('tok-v'))]), 'not json']);
    expect((await failedIds(response)).sort()).toEqual([records[0]!.messageId, records[1]!.messageId].sort());
    expect(batchCalls(h.stack.tpns)).toHaveLength(0);
    // The invalid one is still dead-lettered and acknowledged.
    expect((await h.takeDeadLetters()).letters.map((letter) => letter.source.messageId)).toEqual([records[2]!.messageId]);

    h.stack.dynamo.faults.clear();
    expect(await failedIds(reconcileBatch(sqsEvent([records[0]!]), h.runtime))).toEqual([]);
    expect(h.stack.tpns.accountsOf('android', token)).toEqual([{ account: 'noledger-1', accountType: 0 }]);
  });

  it('a record message the ledger cannot take fails (SQS redelivers it), sends nothing, and is recorded and pushed when redelivered', async () => {
    const token = fresh('tok-rec-down');
    const message: KeyMessage = { v: 2, phase: 'record', correlationId: fresh('cognito'), attempt: 0, signIns: [{ platform: 'ios', token, account: 'cognito-down', v: nextVersion() }] };
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'UpdateItem' });
    const { records, response } = run([message]);
    expect(await failedIds(response)).toEqual([records[0]!.messageId]);
    expect(batchCalls(h.stack.tpns)).toHaveLength(0);
    h.stack.dynamo.faults.clear();
    expect(await failedIds(reconcileBatch(sqsEvent(records), h.runtime))).toEqual([]);
    expect(h.stack.tpns.accountsOf('ios', token)).toEqual([{ account: 'cognito-down', accountType: 0 }]);
    expect(await stateOf('cognito-down', token)).toBe('applied');
  });

  it('a deletion whose push finds the ledger failing (the tombstone already recorded) is answered 202 and queued; the queued push erases the account', async () => {
    const [account, token] = [fresh('erased-ledger-down'), fresh('tok-ledger-down')];
    await signIn(h.runtime, { account, token, platform: 'android' }, meta());
    // The deletion's own read of the account's tokens (the first Query) passes; the push's reads fail.
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'Query', after: 1 });
    const correlationId = fresh('deletion');
    expect(await deleteAccount(h.runtime, { account }, { correlationId })).toMatchObject({ status: 202, body: { applied: 0, queued: 2 } });
    expect(batchCalls(h.stack.tpns, 5)).toHaveLength(0);
    expect(h.stack.tpns.accountsOf('android', token)).toEqual([{ account, accountType: 0 }]);
    h.stack.dynamo.faults.clear();
    const queued = (await followUps(correlationId)).map(({ message }) => message);
    expect(queued.map((message) => message.phase)).toEqual(['push']);
    expect(await failedIds(run(queued).response)).toEqual([]);
    expect(h.stack.tpns.accountsOf('android', token)).toEqual([]);
    expect(await erasureStatus(h.runtime, { account })).toMatchObject({ state: 'applied' });
  });

  it('an erasure push whose ledger fails while its accounts are prepared together fails its messages, sends no op 5, and erases every account when redelivered', async () => {
    const accounts = Array.from({ length: 40 }, (_, i) => fresh(`erased-prepare-${i}`));
    await Promise.all(accounts.map((account, i) => signIn(h.runtime, { account, token: fresh(`tok-prepare-${i}`), platform: 'android' }, meta())));
    await Promise.all(accounts.map((account) => h.runtime.ledger.recordDeletion({ account }, h.runtime.tpns.platforms)));
    const messages = [0, 20].map((start) => keyMessage('push', accounts.slice(start, start + 20).map((account) => ({ kind: 'erasure' as const, account }))));
    // The index cleanup (the preparation's only batch write) fails for all but the first few accounts.
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'BatchWriteItem', after: 5 });
    const { records, response } = run(messages);
    expect((await failedIds(response)).sort()).toEqual(records.map((record) => record.messageId).sort());
    expect(batchCalls(h.stack.tpns, 5)).toHaveLength(0);
    h.stack.dynamo.faults.clear();
    expect(await failedIds(reconcileBatch(sqsEvent(records), h.runtime))).toEqual([]);
    for (const account of accounts) {
      expect(h.stack.tpns.tokensOf('android', account), account).toEqual([]);
      expect(await erasureStatus(h.runtime, { account }), account).toMatchObject({ state: 'applied' });
    }
  });

  it('an erasure read-back whose settle fails fails its message; redelivered, the erasure is verified and leaves the unsettled index', async () => {
    const account = fresh('erased-nosettle');
    await h.runtime.ledger.recordDeletion({ account }, h.runtime.tpns.platforms);
    const unsettled = async () => (await h.runtime.ledger.unsettledBefore(Date.now() + 60_000, 100_000)).erasures.filter((ref) => ref.account === account);
    // The two `verifiedAt` marks pass; the settle (the next UpdateItem) fails on every attempt.
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'UpdateItem', after: 2 });
    const { records, response } = run([keyMessage('verify', [{ kind: 'erasure', account }])]);
    expect(await failedIds(response)).toEqual([records[0]!.messageId]);
    h.stack.dynamo.faults.clear();
    expect(await unsettled()).toEqual([{ account }]);
    expect(await failedIds(reconcileBatch(sqsEvent(records), h.runtime))).toEqual([]);
    expect(await erasureStatus(h.runtime, { account })).toMatchObject({ state: 'verified' });
    expect(await unsettled()).toEqual([]);
  });

  it('fails the whole batch when its follow-ups cannot be queued (a key must not stay unverified)', async () => {
    const token = fresh('tok-noqueue');
    await recorded(token, 'noqueue-1');
    const queue = new SqsKeyQueue({ queueUrl: 'http://127.0.0.1:9/000000000000/unreachable', endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const records = [sqsRecord(keyMessage('push', [tokenKey(token)])), sqsRecord(keyMessage('push', [tokenKey(fresh('tok-other'))]))];
    const response = await reconcileBatch(sqsEvent(records), { ...h.runtime, queue });
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(records.map((record) => record.messageId).sort());
  });
});
