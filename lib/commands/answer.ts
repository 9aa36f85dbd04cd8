/**
 * What a command answers, in the product spec's words: `200 { applied, failed }` when the work
 * was applied at TPNS within the request, `202 { queued, chunks }` when (some of) it was queued.
 * Counts are TPNS items: a (token, platform) pair, or an (account, platform) pair for deletions.
 */
import type { ItemFailure, Platform } from '../tpns/types.js';

/** A permanent per-item failure; retryable ones are queued, not answered as failed. */
export interface Failure extends ItemFailure {
  platform: Platform;
}

export interface Tally {
  applied: number;
  failed: Failure[];
  /** Items durably queued for the worker. */
  queued: number;
  /** SQS messages they were queued in. */
  chunks: number;
}

export type Answer =
  | { status: 200; body: { applied: number; failed: Failure[] } }
  | { status: 202; body: { queued: number; chunks: number; applied: number; failed: Failure[] } };

export function answerOf({ applied, failed, queued, chunks }: Tally): Answer {
  return queued > 0 ? { status: 202, body: { queued, chunks, applied, failed } } : { status: 200, body: { applied, failed } };
}

/** Correlates queued messages and logs with the trigger (API request id, event id). */
export interface CommandMeta {
  correlationId: string;
  /** ISO-8601 time the request was accepted; default now. */
  acceptedAt?: string;
}
