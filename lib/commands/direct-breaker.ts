/**
 * "TPNS is struggling": once a direct push ended with TPNS throttling (1008028), failing (5xx,
 * 1008004) or not answering, this container skips direct pushes for a short cool-down and only
 * records and queues (202). It stays in the ledger design for capacity, not correctness: without
 * it, during a throttled peak every sign-in holds its Lambda for the whole ~2 s budget, ten times
 * the concurrency of a healthy peak (docs/capacity.md), and sends TPNS more calls to refuse. The
 * worker coalesces the queued keys 20 per call. After the cool-down the next request is the probe.
 */
import { CLIENT_CODE, TPNS_CODE } from '../tpns/constants.js';

/** TPNS's rate limit counts per second: 5 s lets the queue carry a peak and bounds the wait after recovery. */
export const DIRECT_COOL_DOWN_MS = 5_000;

/** Outcomes that say TPNS itself is overloaded or down, not that the request was wrong. */
const STRUGGLING_CODES = new Set<string>([TPNS_CODE.tooFast, TPNS_CODE.internalError, CLIENT_CODE.timeout, CLIENT_CODE.network, 'TIMEOUT']);

export const isStrugglingCode = (code: string): boolean => STRUGGLING_CODES.has(code) || /^HTTP_5\d\d$/.test(code);

export class DirectBreaker {
  #openUntil = 0;

  constructor(
    readonly coolDownMs: number = DIRECT_COOL_DOWN_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while direct pushes are skipped. */
  isOpen(): boolean {
    return this.now() < this.#openUntil;
  }

  trip(): void {
    this.#openUntil = this.now() + this.coolDownMs;
  }
}
