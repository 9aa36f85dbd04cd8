/**
 * The two ways accepted work reaches TPNS: directly (one TPNS call's worth, a user is waiting,
 * the interactive ~2 s retry budget) with a copy of every item queued in its own FIFO group at
 * the same time (it keeps the order per token, and carries what the direct call left
 * retryable), or only through the binding queue (larger work). Nothing accepted is dropped: if
 * the queue cannot take it the QueueUnavailableError reaches the caller (503, retry).
 */
import { logger } from '../observability/logger.js';
import { itemCount, keepItems, planWork } from '../queue/plan.js';
import type { WorkInput } from '../queue/plan.js';
import type { WorkQueue } from '../queue/messages.js';
import { INTERACTIVE_RETRY_BUDGET_MS } from '../tpns/constants.js';
import { TpnsPlatformNotConfiguredError } from '../tpns/errors.js';
import type { CallOptions, OperationResult, Platform, TpnsAccountApi } from '../tpns/types.js';
import type { CommandMeta, Failure, Tally } from './answer.js';
import { isStrugglingCode } from './direct-breaker.js';
import type { DirectBreaker } from './direct-breaker.js';
import type { Runtime } from './runtime.js';

export type { WorkInput } from '../queue/plan.js';

/** Work up to one TPNS call per platform (20 tokens for op 2/3) is applied while the caller waits. */
export const DIRECT_ITEM_LIMIT = 20;

/**
 * The retry budget bounds waits between attempts, not a request already in flight (TPNS's
 * request timeout is 5 s). A caller waits at most this long in total; Cognito gives its trigger
 * 5 s, and the queue fallback needs its share of them.
 */
export const DIRECT_DEADLINE_MS = INTERACTIVE_RETRY_BUDGET_MS + 500;

/** Refuses, before anything is sent, work for a platform that has no TPNS credentials. */
export function assertConfigured(tpns: TpnsAccountApi, platforms: Iterable<Platform>): void {
  for (const platform of platforms) {
    if (!tpns.platforms.includes(platform)) throw new TpnsPlatformNotConfiguredError(platform);
  }
}

function call(tpns: TpnsAccountApi, work: WorkInput, options: CallOptions): Promise<OperationResult> {
  switch (work.kind) {
    case 'bind':
      return tpns.bind(work.platform, work.items, options);
    case 'remove-accounts':
      return tpns.removeAccounts(work.platform, work.items, options);
    case 'unbind-tokens':
      return tpns.unbindTokens(work.platform, work.tokens, options);
    case 'delete-accounts':
      return tpns.deleteAccounts(work.platform, work.accounts, options);
  }
}

export interface DirectResult {
  applied: number;
  /** Permanent failures (invalid token...): answered, never queued. */
  failed: Failure[];
  /** The items still failing retryably after the budget, to be queued. */
  leftover?: WorkInput;
}

/**
 * One direct attempt within the interactive budget. While `breaker` is open (TPNS struggling)
 * nothing is sent and all of the work is left over for the queue; an attempt that ends with
 * items TPNS was too overloaded or down to take trips it.
 */
export async function applyDirect(tpns: TpnsAccountApi, work: WorkInput, breaker?: DirectBreaker): Promise<DirectResult> {
  if (breaker?.isOpen()) return { applied: 0, failed: [], leftover: work };
  const deadline = AbortSignal.timeout(DIRECT_DEADLINE_MS);
  let result: OperationResult;
  try {
    result = await call(tpns, work, { retryBudgetMs: INTERACTIVE_RETRY_BUDGET_MS, signal: deadline });
  } catch (error) {
    // Cut off mid-call: whether TPNS applied it is unknown, so all of it is queued (ops 2-5 are idempotent).
    if (deadline.aborted) {
      breaker?.trip();
      return { applied: 0, failed: [], leftover: work };
    }
    throw error;
  }
  const failed: Failure[] = [];
  const retry = new Set<number>();
  for (const outcome of result.outcomes) {
    if (outcome.ok) continue;
    if (outcome.retryable) {
      retry.add(outcome.index);
      if (isStrugglingCode(outcome.code)) breaker?.trip();
      continue;
    }
    const { token, account, code, message } = outcome;
    failed.push({ ...(token === undefined ? { account } : { token }), code, message, retryable: false, platform: work.platform });
  }
  return { applied: result.applied, failed, ...(retry.size > 0 ? { leftover: keepItems(work, retry) } : {}) };
}

/** Plans every input into FIFO messages and queues them in one go, in order. */
export async function queueWork(queue: WorkQueue, inputs: WorkInput[], meta: CommandMeta): Promise<Pick<Tally, 'queued' | 'chunks'>> {
  const messages = inputs.flatMap((input) => planWork(input, meta));
  await queue.enqueue(messages);
  return { queued: inputs.reduce((sum, input) => sum + itemCount(input), 0), chunks: messages.length };
}

/** Each item as work of its own: planned alone, it lands in its token's (or account's) FIFO group. */
const itemByItem = (work: WorkInput): WorkInput[] =>
  Array.from({ length: itemCount(work) }, (_, index) => keepItems(work, [index]));

/** What to do when the direct call itself fails (credentials, app state) but the queued copy was taken. */
export type OnDirectError = 'throw' | 'rely-on-queue';

/**
 * Everything in `works` directly (in parallel, one call each) and, at the same time, every item
 * queued as its own message in its token's (or account's) FIFO group. The queue so holds each
 * token's history in acceptance order and replays it: queued work accepted before this cannot
 * be applied after it (docs/queue.md). An item applied directly is re-applied by the worker
 * (harmless: ops 2-5 are set-like); an item left over (breaker open, TPNS failing) has its queued
 * copy as its only one. Sent concurrently, the caller waits max(TPNS, SQS), not the sum.
 *
 * If the queue cannot take the copies the QueueUnavailableError propagates (503 + Retry-After)
 * even when TPNS applied the work: without the copy, older queued work of the same token could
 * still overwrite it. A retry is safe (idempotent).
 */
export async function applyAndConfirm(
  runtime: Runtime,
  works: WorkInput[],
  meta: CommandMeta,
  onDirectError: OnDirectError = 'throw',
): Promise<Tally> {
  const [direct, copies] = await Promise.allSettled([
    Promise.all(works.map((work) => applyDirect(runtime.tpns, work, runtime.directBreaker))),
    queueWork(runtime.queue, works.flatMap(itemByItem), meta),
  ]);
  if (copies.status === 'rejected') throw copies.reason;
  if (direct.status === 'rejected') {
    if (onDirectError === 'throw') throw direct.reason;
    logger.warn('Work could not be applied directly; its queued copy will be', { error: direct.reason });
    return { applied: 0, failed: [], ...copies.value };
  }
  const results = direct.value;
  // Each leftover item is already queued, in a message of its own.
  const leftover = results.reduce((sum, result) => sum + (result.leftover ? itemCount(result.leftover) : 0), 0);
  return {
    applied: results.reduce((sum, result) => sum + result.applied, 0),
    failed: results.flatMap((result) => result.failed),
    queued: leftover,
    chunks: leftover,
  };
}

/**
 * Work of one TPNS call per platform directly and confirmed item by item in the queue (the calls
 * run in parallel, so the caller still waits about one budget), anything larger straight to the
 * queue in chunks of 20 (chunk groups: not ordered against the tokens' own groups).
 */
export async function applyOrQueueBySize(
  runtime: Runtime,
  works: WorkInput[],
  meta: CommandMeta,
): Promise<Tally> {
  if (works.every((work) => itemCount(work) <= DIRECT_ITEM_LIMIT)) return applyAndConfirm(runtime, works, meta);
  return { applied: 0, failed: [], ...(await queueWork(runtime.queue, works, meta)) };
}
