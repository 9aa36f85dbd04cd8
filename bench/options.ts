/**
 * Benchmark sizes. The defaults are the figures and finish in a few minutes on a 2-core
 * machine; every one can be raised for a bigger run with a flag or a BENCH_* variable:
 *
 *     npm run bench -- --runs 5 --cold-runs 15
 *     BENCH_ITEMS=10000 BENCH_RUNS=5 npm run bench
 *     npm run bench -- --worker-concurrency 20        # more worker invocations than serverless.yml's 5
 *     TPNS_CONCURRENCY=10 npm run bench               # TPNS calls in flight per worker invocation
 *     npm run bench -- --tpns-latency-ms 50           # the round trip of the "with TPNS latency" throughput
 */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Bulk binds, and tokens signed out in bulk, per run (one admin request each; <= 10 000, the spec's bulk limit). */
  items: number;
  /** Accounts deleted in bulk per run (both platforms). */
  accounts: number;
  /** Single-token sign-ins queued in one burst per run. */
  burst: number;
  /** Bindings sent one call each by the naive baseline per run. */
  naiveItems: number;
  /** Repetitions of the queue scenarios; figures are medians over these. */
  runs: number;
  /** Sequential login requests (and as many plain fetches) per warm-overhead run. */
  warmRequests: number;
  /** Fresh Node processes per function for the cold-start figures. */
  coldRuns: number;
  /** Round trip the emulator adds to every call in the throughput variant "with TPNS latency" (ms). */
  tpnsLatencyMs: number;
  /** Worker invocations at once; default serverless.yml's `workerMaxConcurrency`. */
  workerConcurrency: number | undefined;
  /** Where results are written; `undefined` writes nothing. */
  out: string | undefined;
  /** Where bundles are built (the empty handler beside them). */
  distDir: string;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  items: 10_000,
  accounts: 2_000,
  burst: 2_000,
  naiveItems: 2_000,
  runs: 5,
  warmRequests: 1_000,
  coldRuns: 15,
  // docs/capacity.md's assumed round trip from a Lambda region to TPNS (A4).
  tpnsLatencyMs: 30,
  workerConcurrency: undefined,
  out: 'bench/results.json',
  distDir: 'dist/bench',
};

const NUMERIC = ['items', 'accounts', 'burst', 'naiveItems', 'runs', 'warmRequests', 'coldRuns', 'tpnsLatencyMs', 'workerConcurrency'] as const;

/** `warmRequests` -> `--warm-requests` and `BENCH_WARM_REQUESTS`. */
const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
const envName = (name: string) => `BENCH_${kebab(name).replace(/-/g, '_').toUpperCase()}`;

export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...Object.fromEntries(NUMERIC.map((name) => [kebab(name), { type: 'string' as const }])),
      out: { type: 'string' },
    },
  });
  const options: BenchOptions = { ...DEFAULT_OPTIONS };
  for (const name of NUMERIC) {
    const raw = (values as Record<string, string | undefined>)[kebab(name)] ?? env[envName(name)];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${kebab(name)} (${envName(name)}) must be a positive integer, got "${raw}"`);
    options[name] = value;
  }
  if (options.items > 10_000) throw new Error('--items must be at most 10000 (one admin request; the spec\'s bulk limit)');
  if (options.accounts > 10_000) throw new Error('--accounts must be at most 10000 (one admin request)');
  if (typeof values.out === 'string') options.out = values.out;
  return options;
}
