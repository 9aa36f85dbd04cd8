/**
 * The loop that makes TPNS match the ledger, level-triggered like a Kubernetes controller:
 * read the key's current intent, push it, read TPNS back later, repair what differs, verify
 * again with backoff, and dead-letter a key that will not converge. Used by the request's direct
 * attempt (lib/commands) and by the worker (lib/worker) alike; what "matching" means is
 * ./rule.ts.
 *
 * G2 (no stale write after an answer) rests on the token's push lease: a token is pushed only by
 * the holder of its lease, which reads the intent after taking it and re-reads it before every
 * retry. A writer that finds the lease held records its intent and waits for the lease (or hands
 * the push to the queue): it answers only after the older push was sent. Every send decided from
 * a ledger read starts within SEND_WINDOW_MS of that read, no longer than any writer's wait, so even
 * a stalled holder cannot start a superseded send after the writer answered.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { logger, redactToken } from '../observability/logger.js';
import type { DynamoLedger, WriteResult } from '../ledger/dynamo-ledger.js';
import { tokenKeyId } from '../ledger/records.js';
import type { Lease, TokenKey, TokenRecord, Tombstone } from '../ledger/records.js';
import { keyLetter, NOT_CONVERGING_CODE } from '../queue/dead-letter.js';
import type { DeadLetter, DeadLetterQueue } from '../queue/dead-letter.js';
import { erasureKeyOf, keyMessages, MAX_DELAY_SECONDS, tokenKeyOf } from '../queue/messages.js';
import type { ErasureReconcileKey, KeyQueue, OutgoingKeyMessage, ReconcileKey } from '../queue/messages.js';
import { CLIENT_CODE, DEFAULT_RETRY_POLICY } from '../tpns/constants.js';
import { TpnsError } from '../tpns/errors.js';
import { retryDelay } from '../tpns/retry.js';
import { chunk } from '../tpns/token-entries.js';
import type { AccountRef, Platform, TpnsAccountApi } from '../tpns/types.js';
import { sendOps } from './operations.js';
import type { OpOutcome, PlannedOp } from './operations.js';
import { erasureAllowed, erasureExtras, erasureOps, heldAccounts, tokenIntent, tokenMatches, tokenOps } from './rule.js';
import type { TokenIntent, TombstoneLookup } from './rule.js';

export interface ConvergenceSettings {
  /** How long after a push TPNS is read back (VERIFY_DELAY_SECONDS). */
  verifyDelaySeconds: number;
  /** Read-backs that may find TPNS different before the key is dead-lettered. */
  maxVerifyAttempts: number;
}

/** A key whose lease is held elsewhere is looked at again this much later. */
const LEASE_HELD_RETRY_SECONDS = 2;

/**
 * A send starts at most this long after the ledger read it was decided from began (what was
 * not sent by then is retried after a fresh read). No longer than any writer's wait for a held lease or
 * an unapplied erasure (lib/commands/work.ts LEASE_WAIT_MS 1.5 s, Cognito 1 s): a writer that
 * gives up waiting answers after every send decided before its write has started.
 */
export const SEND_WINDOW_MS = 1_000;
const sendWindowFrom = (readStartedAt: number): number => readStartedAt + SEND_WINDOW_MS;

export interface Convergence {
  tpns: TpnsAccountApi;
  ledger: DynamoLedger;
  queue: KeyQueue;
  deadLetters?: DeadLetterQueue;
  settings: ConvergenceSettings;
  /** Per container: skips direct pushes for a moment while TPNS struggles (lib/commands/direct-breaker.ts). */
  directBreaker?: { isOpen(): boolean; trip(): void };
}

export type PushStatus =
  | { status: 'applied' }
  /** TPNS did not take it within the budget (retryable): the key goes to the queue. */
  | { status: 'retry'; code: string; message: string; retryAfterMs?: number }
  /** TPNS refused it for good (e.g. 1008006 invalid token). */
  | { status: 'failed'; code: string; message: string; subject: { token: string } | { account: string } };

export interface PushOptions {
  /** Time for retries of retryable failures (0: one attempt, the worker's way: the queue retries). */
  budgetMs: number;
  signal?: AbortSignal;
  /**
   * Runs once the sends are done, side by side with giving the leases back: a request's queue
   * send, one round trip before its answer instead of two. Its failure is the push's; a lease
   * that could not be given back meanwhile runs out by itself (LEASE_MS).
   */
  afterSends?: (results: ReadonlyMap<string, PushStatus>) => Promise<void>;
}

const typeOf = (ref: AccountRef): number => ref.accountType ?? 0;
const refsOf = (records: Iterable<TokenRecord>): AccountRef[] =>
  [...records].flatMap((record) => record.entries.map(({ account, accountType }) => ({ account, accountType })));

function lookupIn(ledger: DynamoLedger, tombstones: ReadonlyMap<string, Tombstone>): TombstoneLookup {
  return (ref) => tombstones.get(ledger.digestOf(ref));
}

/** One status per owner from the outcomes of its ops: a permanent failure wins, then a retryable one. */
function statusOf(outcomes: readonly OpOutcome[]): PushStatus {
  const failed = outcomes.find(({ outcome }) => !outcome.ok && !outcome.retryable);
  if (failed) {
    const { outcome } = failed;
    const subject = outcome.token !== undefined ? { token: outcome.token } : { account: outcome.account ?? '' };
    return { status: 'failed', code: outcome.code, message: outcome.message, subject };
  }
  const retry = outcomes.find(({ outcome }) => !outcome.ok);
  if (!retry) return { status: 'applied' };
  const retryAfterMs = retryAfterOf(outcomes.map(({ outcome }) => outcome));
  return { status: 'retry', code: retry.outcome.code, message: retry.outcome.message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}

/** The longest Retry-After TPNS asked for among these answers: no retry goes sooner. */
function retryAfterOf(answers: Iterable<{ retryAfterMs?: number }>): number | undefined {
  let longest: number | undefined;
  for (const { retryAfterMs } of answers) if (retryAfterMs !== undefined) longest = Math.max(longest ?? 0, retryAfterMs);
  return longest;
}

function byOwner(outcomes: readonly OpOutcome[]): Map<string, OpOutcome[]> {
  const owners = new Map<string, OpOutcome[]>();
  for (const outcome of outcomes) owners.set(outcome.owner, [...(owners.get(outcome.owner) ?? []), outcome]);
  return owners;
}

/** One attempt of planned ops (no client retries), none started after `notAfter`; outcomes by owner. */
async function sendInWindow(c: Convergence, planned: readonly PlannedOp[], notAfter: number, signal?: AbortSignal): Promise<Map<string, OpOutcome[]>> {
  const outcomes = await sendOps(c.tpns, planned, { retryBudgetMs: 0, notAfter, ...(signal ? { signal } : {}) });
  const late = outcomes.filter(({ outcome }) => outcome.code === CLIENT_CODE.sendWindowClosed).length;
  // Not an error (read again, or queued), but a sign of a stalled or overloaded container.
  if (late > 0) logger.warn('Ops not sent: decided from a read older than the send window', { ops: late, windowMs: SEND_WINDOW_MS });
  return byOwner(outcomes);
}

/**
 * Decides and sends in groups of one TPNS call's worth (callGroups), as many groups at once as
 * the client sends calls at once. Each group reads the ledger right before its own send, so a
 * decision is never older than one group's read and a wait for a free call, however many keys
 * there are: a 200-key slice read at once, then sent ten calls at a time, missed its window on a
 * loaded machine, and every op went round again. `callsPerGroup` keeps the calls in flight
 * within the client's concurrency. Waits for every group before it settles (a failure
 * included): a caller gives leases back only once none of its sends can still start.
 */
async function eachDecision<T>(c: Convergence, groups: readonly T[][], decide: (group: T[]) => Promise<void>, callsPerGroup = 1): Promise<void> {
  const limit = pLimit(Math.max(1, Math.floor(c.tpns.concurrency / callsPerGroup)));
  const settled = await Promise.allSettled(groups.map((group) => limit(() => decide(group))));
  const rejected = settled.find((outcome) => outcome.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** Token keys by app, in groups of the tokens one call carries. */
function callGroups(c: Convergence, ids: readonly string[], platformOf: (id: string) => Platform): string[][] {
  return [...new Set(ids.map(platformOf))].flatMap((platform) => chunk(ids.filter((id) => platformOf(id) === platform), c.tpns.tokensPerCall));
}

/**
 * A holder sends only while its lease has at least this long to run: one TPNS request (5 s
 * timeout) and its bookkeeping. A stalled holder so never sends after a newer holder took over.
 */
const SEND_MARGIN_MS = 6_000;

type Held = Map<string, WriteResult & { lease: Lease }>;

/**
 * Re-reads the held tokens and their tombstones; drops (as LEASE_LOST, for the queue) tokens
 * whose lease is no longer ours or too close to its end. Returns the tombstone lookup.
 */
async function refreshHeld(c: Convergence, held: Held, ids: readonly string[], results: Map<string, PushStatus>): Promise<{ lookup: TombstoneLookup; notAfter: number }> {
  const asked = refsOf(ids.map((id) => held.get(id)!.record));
  const { value, sentAt } = await c.ledger.timed(() => c.ledger.readForPush(ids.map((id) => held.get(id)!.record), asked));
  const { records, tombstones } = value;
  const notAfter = sendWindowFrom(sentAt);
  const askedDigests = new Set(asked.map((ref) => c.ledger.digestOf(ref)));
  const now = Date.now();
  for (const id of ids) {
    const write = held.get(id)!;
    const record = records.get(id);
    if (!record || record.lease?.by !== write.lease.by || record.lease.until < now + SEND_MARGIN_MS) {
      held.delete(id);
      results.set(id, { status: 'retry', code: 'LEASE_LOST', message: 'the push lease ran out before the send' });
      continue;
    }
    held.set(id, { ...write, record });
  }
  // A newer intent may name accounts whose tombstones were not read yet (rare: one more read).
  const unseen = refsOf(ids.flatMap((id) => (held.has(id) ? [held.get(id)!.record] : []))).filter((ref) => !askedDigests.has(c.ledger.digestOf(ref)));
  if (unseen.length > 0) for (const [digest, tombstone] of await c.ledger.getTombstones(unseen)) tombstones.set(digest, tombstone);
  return { lookup: lookupIn(c.ledger, tombstones), notAfter };
}

/**
 * Pushes the current intent of tokens whose leases the caller holds, retrying retryable failures
 * within the budget (re-reading the intent right before every send), then gives every lease back.
 */
export async function pushTokens(c: Convergence, leased: readonly WriteResult[], options: PushOptions): Promise<Map<string, PushStatus>> {
  const held: Held = new Map(leased.flatMap((write) => (write.lease ? [[tokenKeyId(write.record), { ...write, lease: write.lease }] as const] : [])));
  const results = new Map<string, PushStatus>();
  const pushedV = new Map<string, number>();
  const deadline = performance.now() + options.budgetMs;
  /** Every lease back, with the state of what was pushed (a newer intent recorded meanwhile stays pending). */
  const release = () =>
    Promise.all(
      [...held].map(([id, { record, lease }]) => {
        const result = results.get(id);
        const v = pushedV.get(id);
        if (!result || v === undefined || result.status === 'retry') return c.ledger.release(record, lease);
        return c.ledger.release(record, lease, { pushedV: v, state: result.status === 'applied' ? 'applied' : 'drift' });
      }),
    );
  try {
    let pending = [...held.keys()];
    for (let attempt = 1; pending.length > 0; attempt++) {
      // Right before every send, the first included: the intent and the tombstones as they are now.
      // A writer that found the lease held may have recorded a newer intent: that one is sent.
      const owners = new Map<string, OpOutcome[]>();
      await eachDecision(c, callGroups(c, pending, (id) => held.get(id)!.record.platform), async (group) => {
        const { lookup, notAfter } = await refreshHeld(c, held, group, results);
        const planned: PlannedOp[] = [];
        for (const id of group.filter((id) => held.has(id))) {
          const { record } = held.get(id)!;
          pushedV.set(id, record.v);
          const ops = tokenOps(record.token, tokenIntent(record, lookup));
          if (ops.length === 0) results.set(id, { status: 'applied' });
          planned.push(...ops.map((op) => ({ owner: id, platform: record.platform, op })));
        }
        for (const [id, outcomes] of await sendInWindow(c, planned, notAfter, options.signal)) owners.set(id, outcomes);
      });
      for (const [id, outcomes] of owners) results.set(id, statusOf(outcomes));
      pending = [...owners.keys()].filter((id) => results.get(id)?.status === 'retry');
      if (pending.length === 0) break;
      const delay = retryDelay(attempt, DEFAULT_RETRY_POLICY, Math.random(), retryAfterOf(pending.flatMap((id) => (owners.get(id) ?? []).map(({ outcome }) => outcome))));
      if (performance.now() + delay >= deadline) break;
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined);
    }
  } catch (error) {
    await release();
    throw error;
  }
  if (!options.afterSends) {
    await release();
    return results;
  }
  const [released, after] = await Promise.allSettled([release(), options.afterSends(results)]);
  if (after.status === 'rejected') throw after.reason;
  if (released.status === 'rejected') logger.warn('Push leases could not be given back; they run out by themselves', { error: released.reason as unknown });
  return results;
}

/** The queue follow-ups of pushes: a read-back later for what TPNS took, a queued push for the rest. */
export function followUps(
  c: Convergence,
  keys: ReadonlyMap<string, ReconcileKey>,
  results: ReadonlyMap<string, PushStatus>,
  correlationOf: string | ((key: ReconcileKey) => string),
  attempt = 0,
): OutgoingKeyMessage[] {
  const groups = new Map<string, { verify: ReconcileKey[]; retry: ReconcileKey[]; retryAfterMs?: number }>();
  for (const [id, result] of results) {
    const key = keys.get(id);
    if (!key || result.status === 'failed') continue;
    const correlationId = typeof correlationOf === 'string' ? correlationOf : correlationOf(key);
    const group = groups.get(correlationId) ?? { verify: [], retry: [] };
    if (result.status === 'applied') group.verify.push(key);
    else {
      group.retry.push(key);
      const retryAfterMs = retryAfterOf([group, result]);
      if (retryAfterMs !== undefined) group.retryAfterMs = retryAfterMs;
    }
    groups.set(correlationId, group);
  }
  // One request's keys per message: its correlation id follows them into the worker's logs.
  return [...groups].flatMap(([correlationId, { verify, retry, retryAfterMs = 0 }]) => [
    ...keyMessages(verify, { phase: 'verify', correlationId, delaySeconds: c.settings.verifyDelaySeconds }),
    ...keyMessages(retry, { phase: 'push', correlationId, attempt: attempt + 1, delaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(pushRetryDelaySeconds(attempt), Math.ceil(retryAfterMs / 1000))) }),
  ]);
}

/**
 * Queued pushes of one key before it is dead-lettered (TPNS kept failing it retryably): with the
 * backoff below about two hours, long enough to ride out a TPNS outage, short enough to alarm.
 */
export const MAX_PUSH_ATTEMPTS = 16;

/** Results of the last allowed push attempt that still failed become dead letters instead of another retry. */
function exhausted(keys: ReadonlyMap<string, ReconcileKey>, results: Map<string, PushStatus>, attempt: number, report: BatchReport, sourceOf: SourceOf): void {
  if (attempt + 1 < MAX_PUSH_ATTEMPTS) return;
  for (const [id, result] of results) {
    const key = keys.get(id);
    if (result.status !== 'retry' || !key) continue;
    results.delete(id);
    report.counts.deadLettered += 1;
    report.deadLetters.push(keyLetter(key, { code: result.code, message: `TPNS did not take the push after ${attempt + 1} attempts: ${result.message}` }, sourceOf(key)));
  }
}

/** Backoff of a queued push: 1, 2, 4 ... seconds, capped at SQS's 15 minutes. */
export const pushRetryDelaySeconds = (attempt: number): number => Math.min(MAX_DELAY_SECONDS, 2 ** attempt);
/** Backoff of read-backs that found TPNS different: the verify delay, doubled each time. */
const verifyRetryDelaySeconds = (c: Convergence, attempt: number): number => Math.min(MAX_DELAY_SECONDS, c.settings.verifyDelaySeconds * 2 ** attempt);


/** A key as a log line may name it: a token by its hash, an erased account not at all. */
const loggableKey = (key: ReconcileKey): Record<string, string> =>
  key.kind === 'token' ? { platform: key.platform, token: redactToken(key.token) } : { kind: 'erasure' };

/** Which message a key came from, for its dead letter. */
export type SourceOf = (key: ReconcileKey) => { messageId: string; correlationId: string };

export interface BatchReport {
  /** Follow-up messages (read-backs, retries) to queue. */
  messages: OutgoingKeyMessage[];
  deadLetters: DeadLetter[];
  /** `handedBack`: keys queued again untouched, the invocation running short of time. */
  counts: Record<'applied' | 'verified' | 'repaired' | 'deadLettered' | 'superseded' | 'leaseHeld' | 'handedBack', number>;
}

export const emptyReport = (): BatchReport => ({
  messages: [],
  deadLetters: [],
  counts: { applied: 0, verified: 0, repaired: 0, deadLettered: 0, superseded: 0, leaseHeld: 0, handedBack: 0 },
});

/** A worker push's results into the batch report: read-backs and retries to queue, refusals and exhausted retries to dead-letter. */
function reportPushes(c: Convergence, byId: ReadonlyMap<string, ReconcileKey>, results: Map<string, PushStatus>, attempt: number, report: BatchReport, sourceOf: SourceOf): void {
  exhausted(byId, results, attempt, report, sourceOf);
  report.messages.push(...followUps(c, byId, results, (key) => sourceOf(key).correlationId, attempt));
  for (const [id, result] of results) {
    const key = byId.get(id);
    if (result.status === 'applied') report.counts.applied += 1;
    if (result.status === 'failed' && key) {
      report.counts.deadLettered += 1;
      report.deadLetters.push(keyLetter(key, { code: result.code, message: result.message }, sourceOf(key)));
      logger.warn('Key refused by TPNS for good; dead-lettered', { ...loggableKey(key), code: result.code });
    }
  }
}

/**
 * Keys claimed, pushed and released at a time, per app. A batch claimed all at once (up to 2 000
 * keys) could spend its leases' send margin on claiming and re-reading, and drop every key as
 * LEASE_LOST without sending anything. 200 is ten full TPNS calls of 20 accounts, the worker's
 * default TPNS concurrency (WORKER_TPNS_CONCURRENCY), so slicing costs no call and no parallelism.
 */
export const PUSH_SLICE = 200;

/** The worker's push of token keys: per slice, take each lease, push, queue the follow-ups. */
export async function pushTokenKeys(c: Convergence, keys: readonly TokenKey[], attempt: number, report: BatchReport, sourceOf: SourceOf): Promise<void> {
  for (const platform of new Set(keys.map((key) => key.platform))) {
    const ofApp = keys.filter((key) => key.platform === platform);
    for (let start = 0; start < ofApp.length; start += PUSH_SLICE) await pushSlice(c, ofApp.slice(start, start + PUSH_SLICE), attempt, report, sourceOf);
  }
}

async function pushSlice(c: Convergence, keys: readonly TokenKey[], attempt: number, report: BatchReport, sourceOf: SourceOf): Promise<void> {
  // A failed claim fails the part: SQS redelivers it, and its redrive policy bounds an outage.
  const claims = await Promise.all(keys.map(async (key) => ({ key, claim: await c.ledger.claim(key) })));
  const held = claims.filter(({ claim }) => !claim).map(({ key }) => tokenKeyOf(key));
  report.counts.leaseHeld += held.length;
  for (const key of held) report.messages.push(...keyMessages([key], { phase: 'push', correlationId: sourceOf(key).correlationId, attempt, delaySeconds: LEASE_HELD_RETRY_SECONDS }));
  const leased = claims.flatMap(({ claim }) => (claim ? [claim] : []));
  const results = await pushTokens(c, leased, { budgetMs: 0 });
  const byId = new Map(leased.map(({ record }) => [tokenKeyId(record), tokenKeyOf(record)]));
  reportPushes(c, byId, results, attempt, report, sourceOf);
}

/** Describes an intent for a dead letter. */
const describeIntent = (intent: TokenIntent) => ({
  empty: intent.empty,
  bound: [...intent.bound].map(([accountType, account]) => ({ account, accountType })),
  absent: intent.absent,
  v: intent.v,
});

/** The worker's read-back of token keys: verified, or repaired and read back again later. */
export async function verifyTokenKeys(c: Convergence, keys: readonly { key: TokenKey; attempt: number }[], report: BatchReport, sourceOf: SourceOf): Promise<void> {
  // TPNS first, then the ledger: an intent recorded in between is compared as the newer one (and repaired), never missed.
  const actual = new Map<string, AccountRef[]>();
  try {
    for (const platform of new Set(keys.map(({ key }) => key.platform))) {
      const tokens = keys.filter(({ key }) => key.platform === platform).map(({ key }) => key.token);
      for (const result of await c.tpns.accountsOfTokens(platform, tokens, { retryBudgetMs: 0 })) {
        actual.set(tokenKeyId({ platform, token: result.token }), heldAccounts(result));
      }
    }
  } catch (error) {
    if (!(error instanceof TpnsError) || !error.retryable) throw error;
    // TPNS did not answer the read-back: look again later, no attempt is spent.
    for (const { key, attempt } of keys) report.messages.push(...keyMessages([tokenKeyOf(key)], { phase: 'verify', correlationId: sourceOf(tokenKeyOf(key)).correlationId, attempt, delaySeconds: c.settings.verifyDelaySeconds }));
    return;
  }
  const records = await c.ledger.getTokens(keys.map(({ key }) => key));
  const tombstones = await c.ledger.getTombstones(refsOf(records.values()));
  const lookup = lookupIn(c.ledger, tombstones);
  const repair: { key: TokenKey; attempt: number }[] = [];
  const verdicts: Promise<void>[] = [];
  for (const { key, attempt } of keys) {
    const id = tokenKeyId(key);
    const record = records.get(id);
    if (!record) continue;
    if (record.lease && record.lease.until >= Date.now()) {
      // A push is under way; its holder queues its own read-back. Look again later in case it crashed.
      report.counts.leaseHeld += 1;
      report.messages.push(...keyMessages([tokenKeyOf(key)], { phase: 'verify', correlationId: sourceOf(tokenKeyOf(key)).correlationId, attempt, delaySeconds: c.settings.verifyDelaySeconds }));
      continue;
    }
    const intent = tokenIntent(record, lookup);
    const held = actual.get(id) ?? [];
    if (tokenMatches(intent, held)) {
      verdicts.push(
        c.ledger.markVerdict(key, record.v, { state: 'verified', attempts: 0 }).then((marked) => {
          if (marked) report.counts.verified += 1;
          else report.counts.superseded += 1;
        }),
      );
      continue;
    }
    if (attempt + 1 >= c.settings.maxVerifyAttempts) {
      verdicts.push(c.ledger.markVerdict(key, record.v, { state: 'drift', attempts: attempt + 1 }).then(() => undefined));
      report.counts.deadLettered += 1;
      report.deadLetters.push(
        keyLetter(tokenKeyOf(key), { code: NOT_CONVERGING_CODE, message: `TPNS still differs from the ledger after ${attempt + 1} read-backs` }, sourceOf(tokenKeyOf(key)), {
          desired: describeIntent(intent),
          actual: held,
        }),
      );
      logger.error('Key does not converge; dead-lettered', { ...loggableKey(tokenKeyOf(key)), attempts: attempt + 1 });
      continue;
    }
    repair.push({ key, attempt });
  }
  await Promise.all(verdicts);
  if (repair.length === 0) return;
  // Repair: under the lease, against the read-back when the intent is still the one compared;
  // each group decided from its own claims (which read the records) right before its send.
  const byId = new Map(repair.map((entry) => [tokenKeyId(entry.key), entry]));
  const claims = new Map<string, WriteResult & { lease: Lease }>();
  const outcomes = new Map<string, OpOutcome[]>();
  await eachDecision(c, callGroups(c, [...byId.keys()], (id) => byId.get(id)!.key.platform), async (group) => {
    const { value: leased, sentAt } = await c.ledger.timed(async () => (await Promise.all(group.map((id) => c.ledger.claim(byId.get(id)!.key)))).flatMap((claim) => (claim ? [claim] : [])));
    const notAfter = sendWindowFrom(sentAt);
    for (const claim of leased) claims.set(tokenKeyId(claim.record), claim);
    try {
      const freshLookup = lookupIn(c.ledger, await c.ledger.getTombstones(refsOf(leased.map(({ record }) => record))));
      const planned: PlannedOp[] = [];
      for (const { record } of leased) {
        const id = tokenKeyId(record);
        const compared = records.get(id);
        const readBack = compared && compared.v === record.v ? actual.get(id) : undefined;
        planned.push(...tokenOps(record.token, tokenIntent(record, freshLookup), readBack).map((op) => ({ owner: id, platform: record.platform, op })));
      }
      for (const [id, outcome] of await sendInWindow(c, planned, notAfter)) outcomes.set(id, outcome);
    } finally {
      await Promise.all(leased.map(({ record, lease }) => c.ledger.release(record, lease)));
    }
  });
  for (const { key, attempt } of repair) {
    if (!claims.has(tokenKeyId(key))) {
      report.counts.leaseHeld += 1;
      report.messages.push(...keyMessages([tokenKeyOf(key)], { phase: 'verify', correlationId: sourceOf(tokenKeyOf(key)).correlationId, attempt, delaySeconds: LEASE_HELD_RETRY_SECONDS }));
      continue;
    }
    const status = statusOf(outcomes.get(tokenKeyId(key)) ?? []);
    if (status.status === 'failed') {
      report.counts.deadLettered += 1;
      report.deadLetters.push(keyLetter(tokenKeyOf(key), { code: status.code, message: status.message }, sourceOf(tokenKeyOf(key))));
      continue;
    }
    report.counts.repaired += 1;
    // A retryable failure is read back too: the next read-back repairs again.
    report.messages.push(...keyMessages([tokenKeyOf(key)], { phase: 'verify', correlationId: sourceOf(tokenKeyOf(key)).correlationId, attempt: attempt + 1, delaySeconds: verifyRetryDelaySeconds(c, attempt) }));
  }
}

// ---- erasures ------------------------------------------------------------------------------

const refOf = (key: ErasureReconcileKey): AccountRef => (key.accountType === undefined ? { account: key.account } : { account: key.account, accountType: key.accountType });
/** The apps a deletion covers: those configured when it was recorded (its receipt tracks them) and still configured. */
const erasedApps = (c: Convergence, tombstone: Tombstone): Platform[] => c.tpns.platforms.filter((platform) => tombstone.apps[platform] !== undefined);

interface ErasureView {
  tombstone: Tombstone;
  records: TokenRecord[];
  keys: TokenKey[];
}

/** The tombstone of an account and the ledger's records of every token it was bound on. */
async function erasureView(c: Convergence, ref: AccountRef): Promise<ErasureView | undefined> {
  const tombstone = await c.ledger.getTombstone(ref);
  if (!tombstone) return undefined;
  const keys = await c.ledger.tokensOfAccount(ref);
  const records = [...(await c.ledger.getTokens(keys)).values()];
  return { tombstone, records, keys };
}

/**
 * Removes an erased account's entries from the ledger's tokens (no plaintext stays) and its index
 * items. With `waitMs`, waits that long for pushes that hold a token's lease (the deletion's
 * request: its answer must not precede their sends); the worker does not wait. False when some
 * entry could not be removed yet.
 */
export async function forgetErasedAccount(c: Convergence, ref: AccountRef, view: ErasureView, waitMs = 0): Promise<boolean> {
  const deadline = performance.now() + waitMs;
  const stale = view.records.filter((record) => record.entries.some((entry) => entry.account === ref.account && entry.accountType === typeOf(ref) && entry.v < view.tombstone.v));
  let pending = stale.map(({ platform, token }) => ({ platform, token }));
  const removed: TokenKey[] = [];
  while (pending.length > 0) {
    const outcomes = await Promise.all(pending.map(async (key) => ({ key, outcome: await c.ledger.removeErasedEntry(key, ref, view.tombstone.v) })));
    removed.push(...outcomes.filter(({ outcome }) => outcome === 'removed').map(({ key }) => key));
    pending = outcomes.filter(({ outcome }) => outcome === 'leased').map(({ key }) => key);
    if (pending.length === 0 || performance.now() + 50 >= deadline) break;
    await sleep(50);
  }
  // Only the index items of entries removed now go: any other may belong to a sign-in accepted
  // since the view was read (a stale hint costs a filtered read; a lost one, a device). Entries a
  // push still holds are removed by the erasure's read-back (verifyErasureKeys).
  await c.ledger.forgetAccountIndex(ref, removed);
  return pending.length === 0;
}

/**
 * Accounts prepared at once (ledger reads, the index cleanup, TPNS asked where op 3 is needed).
 * One at a time, a worker batch of 2 000 erasures was a chain of ~8 000 round trips that ran past
 * the 60 s timeout; the ledger bounds its own calls in flight (48) whatever this allows.
 */
const ERASURE_PREPARE_CONCURRENCY = 16;

interface PreparedErasure {
  id: string;
  ref: AccountRef;
  /** Per app where op 3 is needed: the tokens TPNS said hold the account. */
  held: Map<Platform, string[]>;
}

/** Erases accounts on every configured app that has not taken it yet: op 5, or op 3 where a newer sign-in must survive. */
export async function pushErasures(c: Convergence, refs: readonly AccountRef[], options: PushOptions & { waitForLeasesMs?: number }): Promise<Map<string, PushStatus>> {
  const results = new Map<string, PushStatus>();
  /** Accounts with an app not planned this time (TPNS did not say which tokens hold it): the key is retried. */
  const unplanned = new Map<string, PushStatus>();
  // First the slow part: forget the erased entries (waiting for held leases), and ask TPNS which tokens hold the account where op 3 is needed.
  const limit = pLimit(ERASURE_PREPARE_CONCURRENCY);
  const prepare = async (ref: AccountRef): Promise<PreparedErasure | undefined> => {
    const id = c.ledger.digestOf(ref);
    const view = await erasureView(c, ref);
    if (!view) return undefined;
    await forgetErasedAccount(c, ref, view, options.waitForLeasesMs ?? 0);
    const held = new Map<Platform, string[]>();
    for (const platform of unappliedApps(c, view.tombstone)) {
      if (erasureAllowed(ref, view.tombstone, view.records, platform).size === 0) continue;
      try {
        held.set(platform, (await c.tpns.tokensOfAccounts(platform, [ref], { retryBudgetMs: 0 }))[0]?.tokens ?? []);
      } catch (error) {
        if (!(error instanceof TpnsError) || !error.retryable) throw error;
        unplanned.set(id, { status: 'retry', code: error.code, message: error.message, ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }) });
      }
    }
    return { id, ref, held };
  };
  // Settled, not raced: a failure fails the part only once nothing of it runs any more.
  const settled = await Promise.allSettled(refs.map((ref) => limit(() => prepare(ref))));
  const rejected = settled.find((outcome) => outcome.status === 'rejected');
  if (rejected) throw rejected.reason;
  const prepared = settled.flatMap((outcome) => (outcome.status === 'fulfilled' && outcome.value ? [outcome.value] : []));
  const deadline = performance.now() + options.budgetMs;
  // Op 5 takes at least as many accounts a call as the token ops take tokens; a slice calls once per app.
  await eachDecision(
    c,
    chunk(prepared, c.tpns.tokensPerCall),
    async (slice) => {
      const sent = await sendErasures(c, slice, { ...options, deadline });
      for (const [id, status] of sent.results) results.set(id, status);
      // The preparation's reason, if it had one, is the one kept.
      for (const [id, status] of sent.unplanned) if (!unplanned.has(id)) unplanned.set(id, status);
    },
    c.tpns.platforms.length,
  );
  for (const [id, status] of unplanned) if (results.get(id)?.status !== 'failed') results.set(id, status);
  for (const ref of refs) {
    const id = c.ledger.digestOf(ref);
    if (!results.has(id)) results.set(id, { status: 'applied' });
  }
  return results;
}

/** Decides from the ledger as it is now (one read of every account in the slice), and sends in that read's window, retrying within it. */
async function sendErasures(c: Convergence, slice: readonly PreparedErasure[], options: PushOptions & { deadline: number }): Promise<{ results: Map<string, PushStatus>; unplanned: Map<string, PushStatus> }> {
  const results = new Map<string, PushStatus>();
  /** Accounts of the slice with an app that could not be planned: retried. */
  const unplanned = new Map<string, PushStatus>();
  const views = new Map<string, { ref: AccountRef; view: ErasureView }>();
  const planned: PlannedOp[] = [];
  const { value: fresh, sentAt } = await c.ledger.timed(() => Promise.all(slice.map(async (entry) => ({ ...entry, view: await erasureView(c, entry.ref) }))));
  const notAfter = sendWindowFrom(sentAt);
  for (const { id, ref, held, view } of fresh) {
    if (!view) continue;
    views.set(id, { ref, view });
    for (const platform of unappliedApps(c, view.tombstone)) {
      const allowed = erasureAllowed(ref, view.tombstone, view.records, platform);
      // Op 3 needs TPNS's list of tokens (not asked: a sign-in recorded since; or not answered): this app waits for the next attempt.
      if (allowed.size > 0 && !held.has(platform)) unplanned.set(id, { status: 'retry', code: 'SIGNED_IN_SINCE', message: 'a sign-in of the account was recorded during the erasure' });
      else planned.push(...erasureOps(ref, allowed, held.get(platform)).map((op) => ({ owner: `${id}/${platform}`, platform, op })));
    }
  }
  const deadline = Math.min(options.deadline, performance.now() + (notAfter - Date.now()));
  let pending = planned;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const owners = await sendInWindow(c, pending, notAfter, options.signal);
    const retry = new Set<string>();
    for (const [owner, outcomes] of owners) {
      const status = statusOf(outcomes);
      const [id = '', platform] = owner.split('/') as [string, Platform];
      if (status.status === 'applied') {
        const entry = views.get(id);
        if (entry) await c.ledger.markErasure(entry.ref, entry.view.tombstone.v, platform, 'appliedAt');
      } else if (status.status === 'retry') retry.add(owner);
      const previous = results.get(id);
      if (!previous || previous.status === 'applied') results.set(id, status);
    }
    pending = pending.filter((item) => retry.has(item.owner));
    const delay = retryDelay(attempt, DEFAULT_RETRY_POLICY, Math.random(), retryAfterOf([...retry].flatMap((owner) => (owners.get(owner) ?? []).map(({ outcome }) => outcome))));
    if (pending.length === 0 || performance.now() + delay >= deadline) break;
    await sleep(delay);
    for (const owner of retry) results.delete(owner.split('/')[0] ?? '');
  }
  return { results, unplanned };
}

/** The apps of a deletion that have not taken it yet. */
const unappliedApps = (c: Convergence, tombstone: Tombstone): Platform[] => erasedApps(c, tombstone).filter((platform) => !tombstone.apps[platform]?.appliedAt);

/** The worker's push of erasure keys. */
export async function pushErasureKeys(c: Convergence, keys: readonly ErasureReconcileKey[], attempt: number, report: BatchReport, sourceOf: SourceOf): Promise<void> {
  const refs = keys.map(refOf);
  // Taken up, as a token's claim notes: while its retries run (a TPNS outage) the sweep starts no
  // second chain. Read-backs do not note it, as for tokens: a read-back TPNS does not answer is
  // queued again every VERIFY_DELAY_SECONDS, and a write each time would load the table for the
  // whole outage; after SWEEP_AFTER_SECONDS the sweep starts one push chain instead.
  await c.ledger.touchUnsettled({ tokens: [], erasures: refs });
  const results = await pushErasures(c, refs, { budgetMs: 0 });
  const byId = new Map(refs.map((ref) => [c.ledger.digestOf(ref), erasureKeyOf(ref)]));
  reportPushes(c, byId, results, attempt, report, sourceOf);
}

/** The worker's read-back of erasure keys on every configured app; each key on its own, so one failed read delays only its key. */
export async function verifyErasureKeys(c: Convergence, keys: readonly { key: ErasureReconcileKey; attempt: number }[], report: BatchReport, sourceOf: SourceOf): Promise<void> {
  await Promise.all(
    keys.map(async ({ key, attempt }) => {
      try {
        await verifyErasure(c, key, attempt, report, sourceOf);
      } catch (error) {
        if (!(error instanceof TpnsError) || !error.retryable) throw error;
        // TPNS did not answer the read-back: look again later, the attempt is not spent.
        report.messages.push(...keyMessages([key], { phase: 'verify', correlationId: sourceOf(key).correlationId, attempt, delaySeconds: c.settings.verifyDelaySeconds }));
      }
    }),
  );
}

async function verifyErasure(c: Convergence, key: ErasureReconcileKey, attempt: number, report: BatchReport, sourceOf: SourceOf): Promise<void> {
  const ref = refOf(key);
  const first = await c.ledger.getTombstone(ref);
  if (!first) return;
  // TPNS first, then the ledger: a sign-in recorded in between counts as allowed, never removed.
  const apps = erasedApps(c, first);
  const heldByApp = new Map(await Promise.all(apps.map(async (platform) => [platform, (await c.tpns.tokensOfAccounts(platform, [ref], { retryBudgetMs: 0 }))[0]?.tokens ?? []] as const)));
  const { value: view, sentAt } = await c.ledger.timed(() => erasureView(c, ref));
  const notAfter = sendWindowFrom(sentAt);
  if (!view) return;
  const forgotten = await forgetErasedAccount(c, ref, view);
  const planned: PlannedOp[] = [];
  const extrasByApp: Record<string, string[]> = {};
  for (const platform of apps) {
    const extras = erasureExtras(heldByApp.get(platform) ?? [], erasureAllowed(ref, view.tombstone, view.records, platform));
    if (extras.length === 0) {
      if (!view.tombstone.apps[platform]?.verifiedAt) await c.ledger.markErasure(ref, view.tombstone.v, platform, 'verifiedAt');
      continue;
    }
    extrasByApp[platform] = extras;
    // Op 3 on exactly the tokens that still hold it: a sign-in of it elsewhere since is left alone.
    planned.push(...extras.map((token): PlannedOp => ({ owner: platform, platform, op: { kind: 'remove', token, accounts: [ref] } })));
  }
  if (planned.length === 0) {
    report.counts.verified += 1;
    // TPNS is clean, but a push still held a token holding the account's plaintext: look again.
    if (!forgotten) report.messages.push(...keyMessages([key], { phase: 'verify', correlationId: sourceOf(key).correlationId, attempt, delaySeconds: LEASE_HELD_RETRY_SECONDS }));
    // Verified on every app and gone from the ledger's records: the sweep has nothing left to do, the seal goes.
    else await c.ledger.settleErasure(ref, view.tombstone.v);
    return;
  }
  if (attempt + 1 >= c.settings.maxVerifyAttempts) {
    report.counts.deadLettered += 1;
    report.deadLetters.push(
      keyLetter(key, { code: NOT_CONVERGING_CODE, message: `the account is still bound after ${attempt + 1} read-backs` }, sourceOf(key), {
        desired: { tokens: 'none, except sign-ins accepted after the deletion' },
        actual: extrasByApp,
      }),
    );
    logger.error('Erasure does not converge; dead-lettered', { attempts: attempt + 1 });
    // The alarm's and the operator's now (the dead letter names the account), not the sweep's.
    await c.ledger.settleErasure(ref, view.tombstone.v);
    return;
  }
  // A repair the window closed on is sent again by the next read-back, decided afresh.
  await sendInWindow(c, planned, notAfter);
  report.counts.repaired += 1;
  report.messages.push(...keyMessages([key], { phase: 'verify', correlationId: sourceOf(key).correlationId, attempt: attempt + 1, delaySeconds: verifyRetryDelaySeconds(c, attempt) }));
}
