/**
 * The sweep (lib/worker/sweep.ts): the deployed worker, invoked by its schedule, queues tokens
 * whose follow-up work was lost, and the usual push, read-back and repair make TPNS match the
 * ledger. Over fauxqs, dynalite (its unsettled index) and the TPNS emulator.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as worker } from '../../../functions/bind-worker.js';
import { erasureStatus } from '../../../lib/commands/erasure-status.js';
import { LedgerUnavailableError } from '../../../lib/ledger/records.js';
import type { KeyMessage } from '../../../lib/queue/messages.js';
import { QueueUnavailableError } from '../../../lib/queue/messages.js';
import { logger } from '../../../lib/observability/logger.js';
import { reconcileBatch } from '../../../lib/worker/reconcile-batch.js';
import { sweepUnsettled } from '../../../lib/worker/sweep.js';
import { localDynamoClient } from '../../../local/dynamodb/local-dynamo.js';
import { scheduledEvent } from '../../../local/stack/schedule.js';
import { captureOutput } from '../../support/output.js';
import { freshName } from '../../support/stack.js';
import { httpDeleteMe, httpSignIn, httpSignOut, lambdaContext, QUEUE_DOWN, withEnv } from '../functions/harness.js';
import { keyMessage, startWorkerHarness } from './harness.js';
import { sqsEvent, sqsRecord } from '../../support/sqs-records.js';
import type { WorkerHarness } from './harness.js';

const INVALID_TOKEN = 'sweep-invalid-token-0001';

/** What EventBridge's schedule does: invoke the deployed worker with a scheduled event. */
const scheduledSweep = () => worker(scheduledEvent(), lambdaContext());
/** The queued messages that name this token. */
/**
 * Stops the worker and lets its last long poll (1 s) run out: fauxqs would hand that poll a
 * message sent meanwhile, hiding it from take() for the visibility timeout.
 */
const stopWorker = async (h: WorkerHarness) => {
  await h.stopFeeding();
  await sleep(1_200);
};
const erasing = (messages: readonly KeyMessage[], account: string) => messages.filter((message) => 'keys' in message && message.keys.some((key) => key.kind === 'erasure' && key.account === account));
/** The tombstone item as DynamoDB holds it, every attribute (what a table export would show). */
const tombstoneItem = async (h: WorkerHarness, account: string) => {
  const client = localDynamoClient(h.stack.dynamo.endpoint);
  try {
    const { Item } = await client.send(new GetItemCommand({ TableName: h.stack.dynamo.tableName, Key: { pk: { S: `E#${h.runtime.ledger.digestOf({ account })}` }, sk: { S: '#' } } }));
    return Item;
  } finally {
    client.destroy();
  }
};
const naming = (messages: readonly KeyMessage[], token: string) => messages.filter((message) => 'keys' in message && message.keys.some((key) => key.kind === 'token' && key.token === token));

/** One harness for the file's describe block, or (`each`) a fresh one per test: an empty index. */
function useHarness(options: Parameters<typeof startWorkerHarness>[0], each = false): () => WorkerHarness {
  let h: WorkerHarness | undefined;
  (each ? beforeEach : beforeAll)(async () => {
    h = await startWorkerHarness(options);
  });
  (each ? afterEach : afterAll)(async () => h?.close());
  if (!each) {
    afterEach(async () => {
      await h?.stopFeeding();
      await h?.takeDeadLetters();
      h?.stack.tpns.reset();
      h?.stack.dynamo.faults.clear();
    });
  }
  return () => h!;
}

describe('the scheduled sweep: work whose follow-up was lost still reaches TPNS', () => {
  // The worker's own settings: anything unverified counts as standing still.
  const harness = useHarness({ env: { SWEEP_AFTER_SECONDS: '0' }, emulator: { invalidTokens: [INVALID_TOKEN] } });
  const accountsAt = (token: string) => harness().stack.tpns.accountsOf('android', token).map(({ account }) => account);
  const record = (token: string) => harness().runtime.ledger.getToken({ platform: 'android', token });

  it('a sign-out answered 503 after recording (TPNS failing, the queue down): the sweep pushes op 4 and the device loses the account', async () => {
    const h = harness();
    const token = freshName('sweep-signout');
    h.feed();
    expect((await httpSignIn('sweep-user-1', token)).statusCode).toBe(200);
    await expect.poll(async () => (await record(token))?.state, { timeout: 10_000, interval: 100 }).toBe('verified');
    await stopWorker(h);

    h.stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    await withEnv(QUEUE_DOWN, async () => expect((await httpSignOut('sweep-user-1', token)).statusCode).toBe(503));
    h.stack.tpns.clearFaults();
    // Recorded (the sign-in is void from clearV on), but no key queued: nothing else would push it.
    const recorded = await record(token);
    expect(recorded).toMatchObject({ state: 'pending', clearV: recorded?.v });
    expect(naming(await h.takeQueued({ waitForDelayed: true }), token)).toEqual([]);
    expect(accountsAt(token)).toEqual(['sweep-user-1']);

    h.feed();
    await scheduledSweep();
    await expect.poll(() => accountsAt(token), { timeout: 10_000, interval: 100 }).toEqual([]);
    await expect.poll(async () => (await record(token))?.state, { timeout: 10_000, interval: 100 }).toBe('verified');
    await stopWorker(h);
    // Verified: out of the index, the next sweep leaves it alone.
    await scheduledSweep();
    expect(naming(await h.takeQueued(), token)).toEqual([]);
  });

  it('a sign-in applied at TPNS whose read-back could not be queued (503): the sweep has it read back and verified', async () => {
    const h = harness();
    const token = freshName('sweep-unverified');
    await withEnv(QUEUE_DOWN, async () => expect((await httpSignIn('sweep-user-2', token)).statusCode).toBe(503));
    expect(await record(token)).toMatchObject({ state: 'applied' });
    h.feed();
    await scheduledSweep();
    await expect.poll(async () => (await record(token))?.state, { timeout: 10_000, interval: 100 }).toBe('verified');
    expect(accountsAt(token)).toEqual(['sweep-user-2']);
  });

  it('an account deletion answered 503 after recording (TPNS failing, the queue down): the sweep erases the account, and its seal goes once verified', async () => {
    const h = harness();
    const [account, token] = [freshName('sweep-erased'), freshName('sweep-erased-token')];
    h.feed();
    expect((await httpSignIn(account, token)).statusCode).toBe(200);
    await expect.poll(async () => (await record(token))?.state, { timeout: 10_000, interval: 100 }).toBe('verified');
    await stopWorker(h);

    h.stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    await withEnv(QUEUE_DOWN, async () => expect((await httpDeleteMe(account)).statusCode).toBe(503));
    h.stack.tpns.clearFaults();
    // Recorded: the tombstone holds the account sealed, never in plaintext; nothing was queued, TPNS still has it.
    const unsettled = await tombstoneItem(h, account);
    expect(unsettled).toMatchObject({ sa: { S: expect.any(String) as string }, uS: { S: expect.any(String) as string } });
    expect(JSON.stringify(unsettled)).not.toContain(account);
    expect(erasing(await h.takeQueued({ waitForDelayed: true }), account)).toEqual([]);
    expect(accountsAt(token)).toEqual([account]);

    h.feed();
    await scheduledSweep();
    await expect.poll(() => accountsAt(token), { timeout: 10_000, interval: 100 }).toEqual([]);
    await expect.poll(async () => (await erasureStatus(h.runtime, { account }))?.state, { timeout: 15_000, interval: 100 }).toBe('verified');
    await stopWorker(h);
    // Settled: the seal and the index entry are gone, the receipt stays; the next sweep leaves it alone.
    const settled = await tombstoneItem(h, account);
    expect(settled).toBeDefined();
    expect(settled).not.toHaveProperty('sa');
    expect(settled).not.toHaveProperty('uS');
    await scheduledSweep();
    expect(erasing(await h.takeQueued(), account)).toEqual([]);
  });

  it('leaves alone what is verified and what was dead-lettered for good (a token TPNS refuses)', async () => {
    const h = harness();
    const verified = freshName('sweep-verified');
    h.feed();
    expect((await httpSignIn('sweep-user-3', verified)).statusCode).toBe(200);
    // The invalid token: op 2 refused for good (1008006), dead-lettered, state drift.
    expect((await httpSignIn('sweep-user-4', INVALID_TOKEN)).statusCode).toBe(200);
    await expect.poll(async () => (await record(verified))?.state, { timeout: 10_000, interval: 100 }).toBe('verified');
    await expect.poll(async () => (await record(INVALID_TOKEN))?.state, { timeout: 10_000, interval: 100 }).toBe('drift');
    await stopWorker(h);
    await h.takeQueued({ waitForDelayed: true });
    await scheduledSweep();
    const queued = await h.takeQueued();
    expect(naming(queued, verified)).toEqual([]);
    expect(naming(queued, INVALID_TOKEN)).toEqual([]);
  });
});

describe('sweepUnsettled', () => {
  const harness = useHarness({}, true);
  /** Records a sign-out that nothing queued (claim: false, as a bulk's recording does before its queue send). */
  const stuck = async (prefix: string, n: number) => {
    const tokens = Array.from({ length: n }, (_, i) => freshName(`${prefix}-${i}`));
    for (const token of tokens) await harness().runtime.ledger.recordSignOut({ platform: 'android', token }, { claim: false });
    return tokens;
  };
  const sweep = (afterSeconds: number, limit?: number) =>
    sweepUnsettled(harness().runtime, { afterSeconds, correlationId: freshName('sweep'), ...(limit === undefined ? {} : { limit }) });
  const queuedTokens = async () => (await harness().takeQueued()).flatMap((message) => ('keys' in message ? message.keys.map((key) => (key.kind === 'token' ? key.token : '')) : []));

  it('queues only work that stood still for afterSeconds, as push keys of attempt 0, and not again right after', async () => {
    const [old] = await stuck('sweep-old', 1);
    await sleep(1_100);
    const [recent] = await stuck('sweep-recent', 1);
    expect(await sweep(1)).toEqual({ queued: 1, erasures: 0, more: false });
    const messages = await harness().takeQueued();
    expect(messages).toEqual([expect.objectContaining({ phase: 'push', attempt: 0, keys: [{ kind: 'token', platform: 'android', token: old }] })]);
    // Queued, so noted as moved: the next sweep waits for it rather than queueing it twice.
    expect(await sweep(1)).toEqual({ queued: 0, erasures: 0, more: false });
    await sleep(1_100);
    expect(new Set(await (sweep(1).then(queuedTokens)))).toEqual(new Set([old, recent]));
  });

  it('queues an unsettled erasure as an erasure push of its account, and not once it is settled', async () => {
    const h = harness();
    const [settled, stuckErasure] = [freshName('sweep-settled-erasure'), freshName('sweep-stuck-erasure')];
    const tombstone = await h.runtime.ledger.recordDeletion({ account: settled }, h.runtime.tpns.platforms);
    await h.runtime.ledger.recordDeletion({ account: stuckErasure, accountType: 2 }, h.runtime.tpns.platforms);
    await h.runtime.ledger.settleErasure({ account: settled }, tombstone.v);
    await sleep(1_100);
    expect(await sweep(1)).toEqual({ queued: 1, erasures: 1, more: false });
    expect(await h.takeQueued()).toEqual([expect.objectContaining({ phase: 'push', attempt: 0, keys: [{ kind: 'erasure', account: stuckErasure, accountType: 2 }] })]);
    expect(await sweep(1)).toEqual({ queued: 0, erasures: 0, more: false });
  });

  it('a worker push of an erasure counts as work moving, even one TPNS does not take (no second retry chain)', async () => {
    const h = harness();
    const account = freshName('sweep-erasure-retried');
    await h.runtime.ledger.recordDeletion({ account }, h.runtime.tpns.platforms);
    await sleep(1_100);
    h.stack.tpns.injectFault({ kind: 'http500' });
    const { batchItemFailures } = await reconcileBatch(sqsEvent([sqsRecord(keyMessage('push', [{ kind: 'erasure', account }], 2))]), h.runtime);
    expect(batchItemFailures).toEqual([]);
    expect(await sweep(1)).toEqual({ queued: 0, erasures: 0, more: false });
    // Its retry is queued: the chain goes on by itself.
    expect((await h.takeQueued({ waitForDelayed: true })).map((message) => message.phase)).toEqual(['push']);
  });

  it('a seal that does not open is left out with an ERROR, and the rest is still swept', async () => {
    const h = harness();
    const [broken, intact] = [freshName('sweep-broken-seal'), freshName('sweep-intact-seal')];
    for (const account of [broken, intact]) await h.runtime.ledger.recordDeletion({ account }, h.runtime.tpns.platforms);
    // What another ERASURE_KEY, or an altered item, leaves: a seal this key cannot open.
    const client = localDynamoClient(h.stack.dynamo.endpoint);
    try {
      const pk = `E#${h.runtime.ledger.digestOf({ account: broken })}`;
      await client.send(new UpdateItemCommand({ TableName: h.stack.dynamo.tableName, Key: { pk: { S: pk }, sk: { S: '#' } }, UpdateExpression: 'SET sa = :sa', ExpressionAttributeValues: { ':sa': { S: 'bm90LWEtc2VhbC1hdC1hbGwtb2YtdGhpcy1rZXk' } } }));
    } finally {
      client.destroy();
    }
    await sleep(1_100);
    const output = captureOutput();
    try {
      expect(await sweep(1)).toEqual({ queued: 1, erasures: 1, more: false });
    } finally {
      output.stop();
    }
    expect(output).toHaveLogged({ level: 'ERROR', message: 'Sweep found erasures whose sealed account does not open (was ERASURE_KEY changed?); they are not swept', unopened: 1 });
    expect(await h.takeQueued()).toEqual([expect.objectContaining({ keys: [{ kind: 'erasure', account: intact }] })]);
  });

  it('counts what it skips towards its limit: entries of expired receipts fill it, and it says there is more', async () => {
    const h = harness();
    const accounts = [freshName('sweep-expired-a'), freshName('sweep-expired-b')];
    for (const account of accounts) await h.runtime.ledger.recordDeletion({ account }, h.runtime.tpns.platforms);
    // Expired (TTL deletes within days, not at once): still in the index, never swept.
    const client = localDynamoClient(h.stack.dynamo.endpoint);
    try {
      for (const account of accounts) {
        const pk = `E#${h.runtime.ledger.digestOf({ account })}`;
        await client.send(new UpdateItemCommand({ TableName: h.stack.dynamo.tableName, Key: { pk: { S: pk }, sk: { S: '#' } }, UpdateExpression: 'SET expiresAt = :past', ExpressionAttributeValues: { ':past': { N: '1' } } }));
      }
    } finally {
      client.destroy();
    }
    await sleep(1_100);
    expect(await h.runtime.ledger.unsettledBefore(Date.now(), 10)).toMatchObject({ erasures: [], listed: 2, unopened: 0 });
    expect(await sweep(1, 2)).toEqual({ queued: 0, erasures: 0, more: true });
  });

  it('a settle of an older deletion leaves a renewed one unsettled', async () => {
    const h = harness();
    const account = freshName('sweep-renewed');
    const first = await h.runtime.ledger.recordDeletion({ account }, h.runtime.tpns.platforms);
    await h.runtime.ledger.recordDeletion({ account }, h.runtime.tpns.platforms);
    await h.runtime.ledger.settleErasure({ account }, first.v);
    await sleep(1_100);
    expect(await sweep(1)).toEqual({ queued: 1, erasures: 1, more: false });
  });

  it('a claim (a push under way) counts as work moving', async () => {
    const h = harness();
    const [token] = await stuck('sweep-claimed', 1);
    await sleep(1_100);
    const claim = await h.runtime.ledger.claim({ platform: 'android', token: token! });
    expect(claim).toBeDefined();
    expect(await sweep(1)).toEqual({ queued: 0, erasures: 0, more: false });
    await h.runtime.ledger.release(claim!.record, claim!.lease);
  });

  it('stops at its limit and says there is more; the next sweep takes the rest', async () => {
    const tokens = await stuck('sweep-limit', 5);
    await sleep(1_100);
    expect(await sweep(1, 3)).toEqual({ queued: 3, erasures: 0, more: true });
    expect(await sweep(1, 3)).toEqual({ queued: 2, erasures: 0, more: false });
    expect(new Set(await queuedTokens())).toEqual(new Set(tokens));
  });

  it('logs how many it queued and how many were erasures, never a token or an account', async () => {
    const [token] = await stuck('sweep-logged', 1);
    const account = freshName('sweep-logged-erasure');
    await harness().runtime.ledger.recordDeletion({ account }, harness().runtime.tpns.platforms);
    await sleep(1_100);
    const level = logger.getLevelName();
    logger.setLogLevel('WARN'); // the harness runs at ERROR
    const output = captureOutput();
    try {
      expect(await sweep(1)).toEqual({ queued: 2, erasures: 1, more: false });
    } finally {
      output.stop();
      logger.setLogLevel(level);
    }
    expect(output).toHaveLogged({ level: 'WARN', message: 'Sweep queued work that had stood still', queued: 2, erasures: 1, more: false, afterSeconds: 1 });
    expect(JSON.stringify(output.lines())).not.toContain(token);
    expect(JSON.stringify(output.lines())).not.toContain(account);
  });

  it('fails after queueing when the ledger cannot note the keys: they are queued again next time, not lost', async () => {
    const h = harness();
    const [token] = await stuck('sweep-nonote', 1);
    await sleep(1_100);
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'UpdateItem' });
    await expect(sweep(1)).rejects.toBeInstanceOf(LedgerUnavailableError);
    h.stack.dynamo.faults.clear();
    expect(await queuedTokens()).toEqual([token]);
    expect(await sweep(1)).toEqual({ queued: 1, erasures: 0, more: false });
    expect(await queuedTokens()).toEqual([token]);
  });

  it('fails, queueing nothing, when the ledger cannot list the index (the next schedule tries again)', async () => {
    const h = harness();
    await stuck('sweep-noledger', 1);
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'Query' });
    await expect(sweep(0)).rejects.toBeInstanceOf(LedgerUnavailableError);
    expect(await queuedTokens()).toEqual([]);
  });

  it('fails when the queue refuses the keys, and does not note them as moved: the next sweep queues them', async () => {
    const [token] = await stuck('sweep-noqueue', 1);
    await sleep(1_100);
    await withEnv(QUEUE_DOWN, async () => {
      const { createRuntime } = await import('../../../lib/config/runtime.js');
      const { loadConfig } = await import('../../../lib/config/config.js');
      const down = createRuntime(await loadConfig(process.env));
      await expect(sweepUnsettled(down, { afterSeconds: 1, correlationId: 'sweep-down' })).rejects.toBeInstanceOf(QueueUnavailableError);
    });
    expect(await sweep(1)).toEqual({ queued: 1, erasures: 0, more: false });
    expect(await queuedTokens()).toEqual([token]);
  });
});
