/** The worker's own settings, from env. */
import * as z from 'zod/mini';
import { WORKER_RETRY_BUDGET_MS } from '../tpns/constants.js';

export interface WorkerSettings {
  /** Retry budget of each TPNS operation (ms). */
  retryBudgetMs: number;
  /** Time kept back at the end of an invocation for dead letters and the answer (ms). */
  reserveMs: number;
  /** TPNS calls in flight per operation for the worker's client. */
  tpnsConcurrency: number;
}

/** One TPNS request may run 5 s past the budget (its timeout); dead letters need a moment too. */
const DEFAULT_RESERVE_MS = 8_000;

/**
 * A batch is at most 10 messages (the FIFO maximum) of at most 20 items: at most 10 TPNS calls.
 * 10 in flight sends a full batch in one round trip rather than the API handlers' 4 (three
 * waves). Per app, the calls in flight are at most workerMaxConcurrency x this; keep that under
 * TPNS's rate limit x round trip (docs/capacity.md), or TPNS answers 1008028 and the worker backs off.
 */
export const WORKER_TPNS_CONCURRENCY = 10;

const millisecondsSchema = z.string().check(z.regex(/^\d+$/, 'must be a whole number of milliseconds'));
const positiveIntSchema = z.string().check(z.regex(/^[1-9]\d*$/, 'must be a positive integer'));

/** Throws naming the variable when it is set to something out of its range. */
export function workerSettingsFromEnv(env: NodeJS.ProcessEnv): WorkerSettings {
  return {
    retryBudgetMs: read(env, 'WORKER_RETRY_BUDGET_MS', millisecondsSchema) ?? WORKER_RETRY_BUDGET_MS,
    reserveMs: DEFAULT_RESERVE_MS,
    tpnsConcurrency: read(env, 'WORKER_TPNS_CONCURRENCY', positiveIntSchema) ?? WORKER_TPNS_CONCURRENCY,
  };
}

/** The variable as a number; undefined when unset or empty. */
function read(env: NodeJS.ProcessEnv, name: string, schema: z.ZodMiniString): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid worker environment: ${name} ${parsed.error.issues[0]?.message}`);
  return Number(parsed.data);
}
