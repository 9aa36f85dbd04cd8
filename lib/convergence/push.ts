/**
 * Pushing under the token's lease, within the send window: what the request's direct attempt
 * (lib/commands) and the worker (./reconciler.ts) both do to send a key's current intent.
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
import { logger } from '../observability/logger.js';
import type { DynamoLedger, WriteResult } from '../ledger/dynamo-ledger.js';
import { tokenKeyId } from '../ledger/records.js';
import type { Lease, TokenRecord, Tombstone } from '../ledger/records.js';
import type { DeadLetterQueue } from '../queue/dead-letter.js';
import { keyMessages, MAX_DELAY_SECONDS } from '../queue/messages.js';
import type { KeyQueue, OutgoingKeyMessage, ReconcileKey } from '../queue/messages.js';
import { CLIENT_CODE, DEFAULT_RETRY_POLICY } from '../tpns/constants.js';
import { retryDelay } from '../tpns/retry.js';
import { chunk } from '../tpns/token-entries.js';
import type { AccountRef, Platform, TpnsAccountApi } from '../tpns/types.js';
import { sendOps } from './operations.js';
import type { OpOutcome, PlannedOp } from './operations.js';
import { tokenIntent, tokenOps } from './rule.js';
import type { TombstoneLookup } from './rule.js';

export interface ConvergenceSettings {
  /** How long after a push TPNS is read back (VERIFY_DELAY_SECONDS). */
  verifyDelaySeconds: number;
  /** Read-backs that may find TPNS different before the key is dead-lettered. */
  maxVerifyAttempts: number;
}

/** A key whose lease is held elsewhere is looked at again this much later. */
export const LEASE_HELD_RETRY_SECONDS = 2;

/**
 * A send starts at most this long after the ledger read it was decided from left for DynamoDB
 * (DynamoLedger.timed; what was not sent by then is retried after a fresh read). No longer than any writer's wait for a held lease or
 * an unapplied erasure (lib/commands/work.ts LEASE_WAIT_MS 1.5 s, Cognito 1 s): a writer that
 * gives up waiting answers after every send decided before its write has started.
 */
export const SEND_WINDOW_MS = 1_000;
export const sendWindowFrom = (readSentAt: number): number => readSentAt + SEND_WINDOW_MS;

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

export const typeOf = (ref: AccountRef): number => ref.accountType ?? 0;
export const refsOf = (records: Iterable<TokenRecord>): AccountRef[] =>
  [...records].flatMap((record) => record.entries.map(({ account, accountType }) => ({ account, accountType })));

export function lookupIn(ledger: DynamoLedger, tombstones: ReadonlyMap<string, Tombstone>): TombstoneLookup {
  return (ref) => tombstones.get(ledger.digestOf(ref));
}

/** One status per owner from the outcomes of its ops: a permanent failure wins, then a retryable one. */
export function statusOf(outcomes: readonly OpOutcome[]): PushStatus {
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
export function retryAfterOf(answers: Iterable<{ retryAfterMs?: number }>): number | undefined {
  let longest: number | undefined;
  for (const { retryAfterMs } of answers) if (retryAfterMs !== undefined) longest = Math.max(longest ?? 0, retryAfterMs);
  return longest;
}

/** One attempt of planned ops (no client retries), none started after `notAfter`; outcomes by owner. */
export async function sendInWindow(c: Convergence, planned: readonly PlannedOp[], notAfter: number, signal?: AbortSignal): Promise<Map<string, OpOutcome[]>> {
  const outcomes = await sendOps(c.tpns, planned, { retryBudgetMs: 0, notAfter, ...(signal ? { signal } : {}) });
  const late = outcomes.filter(({ outcome }) => outcome.code === CLIENT_CODE.sendWindowClosed).length;
  // Not an error (read again, or queued), but a sign of a stalled or overloaded container.
  if (late > 0) logger.warn('Ops not sent: decided from a read older than the send window', { ops: late, windowMs: SEND_WINDOW_MS });
  return Map.groupBy(outcomes, ({ owner }) => owner);
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
export async function eachDecision<T>(c: Convergence, groups: readonly T[][], decide: (group: T[]) => Promise<void>, callsPerGroup = 1): Promise<void> {
  const limit = pLimit(Math.max(1, Math.floor(c.tpns.concurrency / callsPerGroup)));
  await settleAll(groups.map((group) => limit(() => decide(group))));
}

/**
 * Like Promise.all, but settles only once every promise has: the first failure is thrown after
 * nothing of the work runs any more (no send can start after a caller gives its leases back).
 */
export async function settleAll<T>(work: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(work);
  const rejected = settled.find((outcome) => outcome.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

/** Items by app (each TPNS call is one app's), apps in order of first appearance, items in their order. */
export const byPlatform = <T>(items: readonly T[], platformOf: (item: T) => Platform): [Platform, T[]][] => [...Map.groupBy(items, platformOf)];

/** Token keys by app, in groups of the tokens one call carries. */
export function callGroups(c: Convergence, ids: readonly string[], platformOf: (id: string) => Platform): string[][] {
  return byPlatform(ids, platformOf).flatMap(([, ofApp]) => chunk(ofApp, c.tpns.tokensPerCall));
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

/** Backoff of a queued push: 1, 2, 4 ... seconds, capped at SQS's 15 minutes. */
export const pushRetryDelaySeconds = (attempt: number): number => Math.min(MAX_DELAY_SECONDS, 2 ** attempt);
