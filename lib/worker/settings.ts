/** The worker's own settings, from env. */
import * as z from 'zod/mini';

export interface WorkerSettings {
  /** TPNS calls in flight per operation for the worker's client. */
  tpnsConcurrency: number;
}

/**
 * A batch of up to 100 key messages is coalesced into a few TPNS calls per app and kind (20 keys
 * each); 10 in flight send them in one round trip. Per app, the calls in flight are at most
 * workerMaxConcurrency x this; keep that under TPNS's rate limit x round trip
 * (docs/capacity.md), or TPNS answers 1008028 and the keys come back later.
 */
export const WORKER_TPNS_CONCURRENCY = 10;

const positiveIntSchema = z.string().check(z.regex(/^[1-9]\d*$/, 'must be a positive integer'));

/** Throws naming the variable when it is set to something out of its range. */
export function workerSettingsFromEnv(env: NodeJS.ProcessEnv): WorkerSettings {
  const raw = env.WORKER_TPNS_CONCURRENCY?.trim();
  if (!raw) return { tpnsConcurrency: WORKER_TPNS_CONCURRENCY };
  const parsed = positiveIntSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid worker environment: WORKER_TPNS_CONCURRENCY ${parsed.error.issues[0]?.message}`);
  return { tpnsConcurrency: Number(parsed.data) };
}
