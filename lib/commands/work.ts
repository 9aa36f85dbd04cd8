/**
 * How an accepted operation reaches TPNS from a request: it is recorded in the ledger first
 * (nothing is answered 2xx before that), then pushed directly under the token's lease within the
 * interactive budget, and a read-back is queued for later. What TPNS did not take in time, and
 * tokens whose lease another push holds for longer than the wait, are queued as keys to push (202).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SEND_WINDOW_MS, followUps, pushTokens } from '../convergence/push.js';
import type { PushStatus } from '../convergence/push.js';
import type { WriteResult } from '../ledger/dynamo-ledger.js';
import { LedgerUnavailableError, tokenKeyId } from '../ledger/records.js';
import type { TokenRecord } from '../ledger/records.js';
import { keyMessages, QueueUnavailableError, tokenKeyOf } from '../queue/messages.js';
import type { OutgoingKeyMessage } from '../queue/messages.js';
import { INTERACTIVE_RETRY_BUDGET_MS } from '../tpns/constants.js';
import { TpnsConfigError, TpnsPlatformNotConfiguredError } from '../tpns/errors.js';
import type { Platform, TpnsAccountApi } from '../tpns/types.js';
import type { CommandMeta, Failure, Tally } from './answer.js';
import { isStrugglingCode } from './direct-breaker.js';
import type { Convergence } from '../convergence/push.js';

/** How long a request may wait for a lease and for TPNS. */
export interface DirectPushOptions {
  leaseWaitMs?: number;
  /** The whole direct attempt, TPNS retries included. */
  deadlineMs?: number;
}

/**
 * Cognito allows its trigger 5 s in all: one for a lease (no shorter than the reconciler's
 * SEND_WINDOW_MS, so a holder's older send starts before the sign-in goes on), two for TPNS, the
 * rest for the ledger and the queue.
 */
export const COGNITO_PUSH: DirectPushOptions = { leaseWaitMs: SEND_WINDOW_MS, deadlineMs: 2_000 };

/**
 * Items of a bulk recorded at once: 10 000 in well under API Gateway's 29 s. Each takes one to
 * three ledger calls, so 32 keep the ledger's own bound (LEDGER_CONCURRENCY, 48 calls) busy
 * without holding thousands of pending closures.
 */
export const BULK_RECORD_CONCURRENCY = 32;

/** Work up to one TPNS call per platform (20 tokens for op 2/3) is pushed while the caller waits. */
export const DIRECT_ITEM_LIMIT = 20;

/**
 * The retry budget bounds waits between attempts, not a request already in flight (TPNS's
 * request timeout is 5 s). A caller waits at most this long for TPNS; Cognito gives its trigger
 * 5 s, and the ledger and the queue need their share of them.
 */
export const DIRECT_DEADLINE_MS = INTERACTIVE_RETRY_BUDGET_MS + 500;
/**
 * How long a request waits for another push of the same token (a lease) before queueing its own.
 * Longer than SEND_WINDOW_MS: every send the holder decided before this request's write has
 * started by then.
 */
export const LEASE_WAIT_MS = 1_500;
const LEASE_POLL_MS = 40;

/** Refuses, before anything is recorded, work for a platform that has no TPNS credentials. */
export function assertConfigured(tpns: TpnsAccountApi, platforms: Iterable<Platform>): void {
  for (const platform of platforms) {
    if (!tpns.platforms.includes(platform)) throw new TpnsPlatformNotConfiguredError(platform);
  }
}

/** Erasure that silently covered no app would be worse than an error. */
export function configuredPlatforms(tpns: TpnsAccountApi): readonly Platform[] {
  if (tpns.platforms.length === 0) throw new TpnsConfigError('No TPNS platform is configured (set TPNS_ANDROID_* or TPNS_IOS_*)');
  return tpns.platforms;
}


/**
 * Takes the leases of writes that did not get theirs, waiting up to `waitMs` for their holders.
 * The ledger failing stops the wait: what is not leased by then is the worker's (recorded already).
 */
async function awaitLeases(runtime: Convergence, writes: readonly WriteResult[], waitMs: number): Promise<{ leased: WriteResult[]; waiting: WriteResult[] }> {
  const leased = writes.filter((write) => write.lease);
  let waiting = writes.filter((write) => !write.lease);
  const deadline = performance.now() + waitMs;
  while (waiting.length > 0 && performance.now() < deadline) {
    await sleep(LEASE_POLL_MS);
    const claims = await runtime.ledger.claimAll(waiting.map((write) => write.record)).catch((error: unknown) => {
      if (error instanceof LedgerUnavailableError) return undefined;
      throw error;
    });
    if (!claims) break;
    leased.push(...claims.filter((claim) => claim !== undefined));
    waiting = waiting.filter((_, i) => !claims[i]);
  }
  return { leased, waiting };
}

/** What a direct push answers: counts of TPNS items, per the product spec. */
function tally(results: ReadonlyMap<string, PushStatus>, platformOf: (id: string) => Platform, queuedKeys: number, chunks: number): Tally {
  let applied = 0;
  const failed: Failure[] = [];
  for (const [id, result] of results) {
    if (result.status === 'applied') applied += 1;
    if (result.status === 'failed') failed.push({ ...result.subject, code: result.code, message: result.message, retryable: false, platform: platformOf(id) });
  }
  return { applied, failed, queued: queuedKeys, chunks };
}

/**
 * Pushes recorded token intents directly (leases taken or awaited), then queues the read-backs
 * of what TPNS took and the pushes of the rest. Throws QueueUnavailableError (503) when the queue
 * cannot take them: the ledger holds the intent, and a retry of the request is safe.
 */
export async function pushRecorded(runtime: Convergence, writes: readonly WriteResult[], meta: CommandMeta, options: DirectPushOptions = {}): Promise<Tally> {
  // While TPNS is struggling, this container queues instead of holding every request for the budget.
  if (runtime.directBreaker?.isOpen()) return queueRecorded(runtime, writes, meta);
  const { leased, waiting } = await awaitLeases(runtime, writes, options.leaseWaitMs ?? LEASE_WAIT_MS);
  const signal = AbortSignal.timeout(options.deadlineMs ?? DIRECT_DEADLINE_MS);
  const keys = new Map(writes.map((write) => [tokenKeyId(write.record), tokenKeyOf(write.record)]));
  const followUpsOf = (pushed: ReadonlyMap<string, PushStatus>): OutgoingKeyMessage[] => [
    ...followUps(runtime, keys, pushed, meta.correlationId, -1),
    ...keyMessages(waiting.map((write) => tokenKeyOf(write.record)), { phase: 'push', correlationId: meta.correlationId }),
  ];
  let results: Map<string, PushStatus>;
  let messages: OutgoingKeyMessage[] | undefined;
  try {
    results = await pushTokens(runtime, leased, {
      budgetMs: (options.deadlineMs ?? DIRECT_DEADLINE_MS) - 500,
      signal,
      // Queued while the leases are given back: the answer waits for one round trip, not two.
      afterSends: async (pushed) => {
        const queued = followUpsOf(pushed);
        await runtime.queue.send(queued);
        messages = queued;
      },
    });
  } catch (error) {
    // Cut off mid-call (whether TPNS took it is unknown), or the ledger failed after the intent was
    // recorded: the operation is accepted all the same, and all of it is queued (pushes are idempotent).
    if (error instanceof QueueUnavailableError || (!signal.aborted && !(error instanceof LedgerUnavailableError))) throw error;
    const code = signal.aborted ? 'TIMEOUT' : 'LEDGER_UNAVAILABLE';
    results = new Map(leased.map((write) => [tokenKeyId(write.record), { status: 'retry', code, message: 'the direct attempt did not finish' }]));
  }
  if ([...results.values()].some((result) => result.status === 'retry' && isStrugglingCode(result.code))) runtime.directBreaker?.trip();
  const retried = [...results.values()].filter((result) => result.status === 'retry').length;
  if (!messages) {
    messages = followUpsOf(results);
    await runtime.queue.send(messages);
  }
  const platforms = new Map(writes.map((write) => [tokenKeyId(write.record), write.record.platform]));
  const queuedChunks = messages.filter((message) => message.message.phase === 'push').length;
  return tally(results, (id) => platforms.get(id) ?? 'android', retried + waiting.length, queuedChunks);
}

/**
 * Waits (up to `waitMs`) until no other push holds the lease of these just-recorded tokens: a
 * holder that read the intent before this write sends before it releases, so after the wait no
 * superseded send can follow the answer (G2); any later send of the holder re-reads the intent.
 */
async function awaitOtherPushes(runtime: Convergence, writes: readonly WriteResult[], waitMs: number): Promise<void> {
  const deadline = performance.now() + waitMs;
  const active = (record: TokenRecord | undefined) => record?.lease !== undefined && record.lease.until > Date.now();
  // Leases the writes took themselves were given back before.
  let held = writes.filter((write) => !write.lease).map((write) => write.record).filter(active);
  while (held.length > 0 && performance.now() < deadline) {
    await sleep(LEASE_POLL_MS);
    const fresh = await runtime.ledger.getTokens(held);
    held = held.filter((key) => active(fresh.get(tokenKeyId(key))));
  }
}

/** Queues recorded token intents to be pushed by the worker (work larger than one TPNS call). */
export async function queueRecorded(runtime: Convergence, writes: readonly WriteResult[], meta: CommandMeta): Promise<Tally> {
  // A lease this request took (the breaker opened meanwhile) is given back: the worker takes it.
  await Promise.all(writes.flatMap((write) => (write.lease ? [runtime.ledger.release(write.record, write.lease)] : [])));
  await awaitOtherPushes(runtime, writes, LEASE_WAIT_MS);
  const messages = keyMessages(writes.map((write) => tokenKeyOf(write.record)), { phase: 'push', correlationId: meta.correlationId });
  await runtime.queue.send(messages);
  return { applied: 0, failed: [], queued: writes.length, chunks: messages.length };
}
