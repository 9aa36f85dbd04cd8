/** The worker's own settings, from env. */
import * as z from 'zod/mini';
import { WORKER_RETRY_BUDGET_MS } from '../tpns/constants.js';

export interface WorkerSettings {
  /** Retry budget of each TPNS operation (ms). */
  retryBudgetMs: number;
  /** Time kept back at the end of an invocation for dead letters and the answer (ms). */
  reserveMs: number;
}

/** One TPNS request may run 5 s past the budget (its timeout); dead letters need a moment too. */
const DEFAULT_RESERVE_MS = 8_000;

const millisecondsSchema = z.string().check(z.regex(/^\d+$/, 'must be a whole number of milliseconds'));

/** Throws naming the variable when it is set to something that is not a duration. */
export function workerSettingsFromEnv(env: NodeJS.ProcessEnv): WorkerSettings {
  const raw = env.WORKER_RETRY_BUDGET_MS?.trim();
  if (!raw) return { retryBudgetMs: WORKER_RETRY_BUDGET_MS, reserveMs: DEFAULT_RESERVE_MS };
  const parsed = millisecondsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid worker environment: WORKER_RETRY_BUDGET_MS ${parsed.error.issues[0]?.message}`);
  return { retryBudgetMs: Number(parsed.data), reserveMs: DEFAULT_RESERVE_MS };
}
