import { describe, expect, it } from 'vitest';
import { TpnsBadRequestError, TpnsSendWindowClosedError, TpnsUnavailableError } from '../../../lib/tpns/errors.js';
import { backoffCeiling, retryDelay, withRetry } from '../../../lib/tpns/retry.js';
import type { RetryClock } from '../../../lib/tpns/retry.js';
import { parseRetryAfter } from '../../../lib/tpns/transport.js';

const policy = { budgetMs: 10_000, baseDelayMs: 100, maxDelayMs: 1_000 };
const unavailable = (retryAfterMs?: number) =>
  new TpnsUnavailableError('down', { code: 'HTTP_500', retryable: true, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });

/** A clock whose time only moves when the code under test sleeps. */
function fakeClock(random = 0.5): RetryClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    random: () => random,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

describe('backoff math', () => {
  it('doubles the ceiling from the base and caps it', () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffCeiling(retry, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('full jitter: anywhere in [0, ceiling)', () => {
    expect(retryDelay(3, policy, 0)).toBe(0);
    expect(retryDelay(3, policy, 0.5)).toBe(200);
    expect(retryDelay(3, policy, 0.999)).toBe(399);
  });

  it('never waits less than Retry-After', () => {
    expect(retryDelay(1, policy, 0.5, 3_000)).toBe(3_000);
    expect(retryDelay(4, policy, 0.9, 10)).toBe(720);
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
  });
});

describe('withRetry', () => {
  it('retries retryable errors until success, waiting the jittered delays', async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await withRetry(
      (attempt) => {
        calls += 1;
        return attempt < 4 ? Promise.reject(unavailable()) : Promise.resolve('done');
      },
      { policy, clock },
    );
    expect(result).toBe('done');
    expect(calls).toBe(4);
    expect(clock.slept).toEqual([50, 100, 200]);
  });

  it('never retries a permanent error', async () => {
    const clock = fakeClock();
    let calls = 0;
    const permanent = new TpnsBadRequestError('bad', { code: '1008007' });
    await expect(withRetry(() => (calls++, Promise.reject(permanent)), { policy, clock })).rejects.toBe(permanent);
    expect(calls).toBe(1);
    expect(clock.slept).toEqual([]);
  });

  it('never retries errors that are not TpnsErrors (e.g. an abort)', async () => {
    let calls = 0;
    const abort = new DOMException('aborted', 'AbortError');
    await expect(withRetry(() => (calls++, Promise.reject(abort)), { policy, clock: fakeClock() })).rejects.toBe(abort);
    expect(calls).toBe(1);
  });

  /** Fails retryably on every call; the `lastAt`-th error is `last`, the one the call must end with. */
  const failing = (lastAt: number) => {
    let calls = 0;
    const last = unavailable();
    const attempt = () => {
      calls += 1;
      return Promise.reject(calls === lastAt ? last : unavailable());
    };
    return { attempt, last, calls: () => calls };
  };

  it('gives up with the last error when the next wait would end past the budget', async () => {
    const clock = fakeClock(0.999);
    const { attempt, last, calls } = failing(4);
    await expect(withRetry(attempt, { policy: { ...policy, budgetMs: 1_000 }, clock })).rejects.toBe(last);
    // Waits 99 + 199 + 399 = 697; the 4th (799) would end at 1 496 > 1 000.
    expect(clock.slept).toEqual([99, 199, 399]);
    expect(calls()).toBe(4);
  });

  it('startWithinMs: no retry is planned to start after it, and the last error is thrown', async () => {
    const clock = fakeClock(0.999);
    const { attempt, last, calls } = failing(3);
    await expect(withRetry(attempt, { policy, clock, startWithinMs: 500 })).rejects.toBe(last);
    // Waits 99 + 199 = 298; the 3rd (399) would start at 697 > 500, inside the 10 s budget.
    expect(clock.slept).toEqual([99, 199]);
    expect(calls()).toBe(3);
  });

  it('startWithinMs: a call already late makes no attempt (TpnsSendWindowClosedError, retryable)', async () => {
    let calls = 0;
    const error: unknown = await withRetry(() => (calls++, Promise.resolve('sent')), { policy, clock: fakeClock(), startWithinMs: 0 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TpnsSendWindowClosedError);
    expect(error).toMatchObject({ code: 'SEND_WINDOW_CLOSED', retryable: true });
    expect(calls).toBe(0);
  });

  it('a budget of 0 means a single attempt', async () => {
    let calls = 0;
    await expect(withRetry(() => (calls++, Promise.reject(unavailable())), { policy: { ...policy, budgetMs: 0 }, clock: fakeClock(0) })).rejects.toThrow(
      TpnsUnavailableError,
    );
    expect(calls).toBe(1);
  });

  it('honours Retry-After and reports each retry', async () => {
    const clock = fakeClock(0);
    const retries: unknown[] = [];
    await withRetry((attempt) => (attempt === 1 ? Promise.reject(unavailable(2_500)) : Promise.resolve(1)), {
      policy,
      clock,
      onRetry: ({ attempt, delayMs, error }) => retries.push({ attempt, delayMs, code: error.code }),
    });
    expect(clock.slept).toEqual([2_500]);
    expect(retries).toEqual([{ attempt: 1, delayMs: 2_500, code: 'HTTP_500' }]);
  });

  it('gives up at once when Retry-After exceeds the budget', async () => {
    const clock = fakeClock();
    const error = unavailable(60_000);
    await expect(withRetry(() => Promise.reject(error), { policy, clock })).rejects.toBe(error);
    expect(clock.slept).toEqual([]);
  });
});
