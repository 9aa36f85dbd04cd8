/**
 * "TPNS is struggling": once a direct attempt spent its whole interactive budget on throttling
 * (1008028), timeouts, connection failures or 5xx, the next direct attempts of this container
 * are skipped for a short cool-down and their work is queued at once (202). Without it, during a
 * throttled peak every sign-in holds its Lambda for the full ~2 s budget before queueing: ten
 * times the concurrency and the cost (docs/capacity.md), and more calls for TPNS to refuse.
 * After the cool-down the next request goes direct again: it is the probe.
 */
import { CLIENT_CODE, TPNS_CODE } from '../tpns/constants.js';

/**
 * TPNS's rate limit counts per second: a 5 s pause lets the coalescing queue (about 1/5 of the
 * calls) carry a peak, and a sign-in after TPNS recovers waits at most this long to go direct.
 */
export const DIRECT_COOL_DOWN_MS = 5_000;

/** Outcomes that say TPNS itself is overloaded or down, not that the request was wrong. */
const STRUGGLING_CODES = new Set<string>([TPNS_CODE.tooFast, TPNS_CODE.internalError, CLIENT_CODE.timeout, CLIENT_CODE.network]);

export const isStrugglingCode = (code: string): boolean => STRUGGLING_CODES.has(code) || /^HTTP_5\d\d$/.test(code);

export class DirectBreaker {
  #openUntil = 0;

  constructor(
    readonly coolDownMs: number = DIRECT_COOL_DOWN_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while direct attempts are skipped. */
  isOpen(): boolean {
    return this.now() < this.#openUntil;
  }

  /** A direct attempt ran out of budget because TPNS is struggling: skip direct calls for a while. */
  trip(): void {
    this.#openUntil = this.now() + this.coolDownMs;
  }
}
