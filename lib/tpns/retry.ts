/**
 * Exponential backoff with full jitter inside a total time budget, honouring `Retry-After`.
 *
 * A small explicit loop rather than p-retry: p-retry's `randomize` multiplies the delay by 1-2
 * (not full jitter), it has no way to wait for a server's `Retry-After` without also waiting its
 * own delay, and `maxRetryTime` shortens the last wait instead of refusing a retry that cannot
 * fit in the budget.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TpnsError, TpnsSendWindowClosedError } from './errors.js';
import type { RetryPolicy } from './types.js';

/** Time and randomness, injectable so the policy's math is testable without waiting. */
export interface RetryClock {
  now(): number;
  random(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: RetryClock = {
  now: () => performance.now(),
  random: Math.random,
  // An abort rejects with the caller's own reason, as fetch does, not a generic AbortError.
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined).catch((error: unknown) => {
    throw signal?.aborted ? signal.reason : error;
  }),
};

/** The backoff ceiling before retry number `retry` (1-based): base * 2^(retry-1), capped. */
export function backoffCeiling(retry: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
}

/** Full jitter: uniform in [0, ceiling); never shorter than what the server asked for. */
export function retryDelay(retry: number, policy: RetryPolicy, random: number, retryAfterMs?: number): number {
  return Math.max(Math.floor(random * backoffCeiling(retry, policy)), retryAfterMs ?? 0);
}

export interface RetryOptions {
  policy: RetryPolicy;
  clock?: RetryClock;
  signal?: AbortSignal | undefined;
  /** Called before each wait; `attempt` is the attempt that just failed. */
  onRetry?: (info: { attempt: number; delayMs: number; error: TpnsError }) => void;
  /**
   * No attempt starts later than this (ms after the call): a late one is not made, and the
   * call fails with the last error, or TpnsSendWindowClosedError when nothing was tried.
   */
  startWithinMs?: number;
}

/**
 * Runs `attempt` until it succeeds, throws a non-retryable error, or the next wait would end
 * past `policy.budgetMs` or `startWithinMs` (counted from the first attempt); then the last
 * error is thrown.
 */
export async function withRetry<T>(attempt: (attemptNumber: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, clock = systemClock, signal, onRetry, startWithinMs = Infinity } = options;
  const started = clock.now();
  const limitMs = Math.min(policy.budgetMs, startWithinMs);
  let lastError: TpnsError | undefined;
  for (let attemptNumber = 1; ; attemptNumber++) {
    // A wait can end a little late: an attempt due after the window is not made.
    if (clock.now() - started >= startWithinMs) throw lastError ?? new TpnsSendWindowClosedError();
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (!(error instanceof TpnsError) || !error.retryable) throw error;
      lastError = error;
      const delayMs = retryDelay(attemptNumber, policy, clock.random(), error.retryAfterMs);
      if (clock.now() - started + delayMs >= limitMs) throw error;
      onRetry?.({ attempt: attemptNumber, delayMs, error });
      await clock.sleep(delayMs, signal);
    }
  }
}
