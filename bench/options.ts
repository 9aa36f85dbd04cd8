/**
 * Benchmark sizes. The defaults are the figures; every one can be changed with a flag or
 * a BENCH_* variable:
 *
 *     npm run bench -- --runs 5 --cold-runs 25
 *     BENCH_RUNS=5 npm run bench
 *     npm run bench -- --worker-concurrency 20        # more worker invocations than serverless.yml's 5
 *     npm run bench -- --quick                        # every scenario at a tiny size, nothing written
 *     npm run bench -- --only warm,cold               # some scenarios (bench/scenarios.ts) only
 */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Binds in the admin bulk (one request; <= 10 000, the spec's bulk limit). */
  items: number;
  /** Sign-ins of the healthy scenario and of the burst (half Android, half iOS). */
  signIns: number;
  /** Repetitions of the scenarios; every figure is the median over them. */
  runs: number;
  /** Sequential sign-ins (and as many of each reference) per warm run. */
  warmRequests: number;
  /** Fresh Node processes per function (and per bare equivalent) for the cold-start figures. */
  coldRuns: number;
  /** Worker invocations at once; default serverless.yml's `workerMaxConcurrency`. */
  workerConcurrency: number | undefined;
  /** Where results are written; `undefined` writes nothing. */
  out: string | undefined;
  /** Where bundles are built. */
  distDir: string;
  /** Scenario names to run (default all). */
  only?: string[] | undefined;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  items: 10_000,
  signIns: 2_000,
  runs: 3,
  warmRequests: 1_000,
  coldRuns: 15,
  workerConcurrency: undefined,
  out: 'bench/results.json',
  distDir: 'dist/bench',
};

/** `--quick`: each scenario once, at a size that checks the code (what test/bench/bench-smoke.test.ts runs), not the product. */
export const QUICK_SIZES = { items: 100, signIns: 40, runs: 1, warmRequests: 5, coldRuns: 1 } as const;

const NUMERIC = ['items', 'signIns', 'runs', 'warmRequests', 'coldRuns', 'workerConcurrency'] as const;

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
      only: { type: 'string' },
      quick: { type: 'boolean' },
    },
  });
  const quick = values.quick === true || env.BENCH_QUICK === '1';
  // A quick run's figures mean nothing: it writes results only where --out says.
  const options: BenchOptions = quick ? { ...DEFAULT_OPTIONS, ...QUICK_SIZES, out: undefined } : { ...DEFAULT_OPTIONS };
  for (const name of NUMERIC) {
    const raw = (values as Record<string, string | undefined>)[kebab(name)] ?? env[envName(name)];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${kebab(name)} (${envName(name)}) must be a positive integer, got "${raw}"`);
    options[name] = value;
  }
  if (options.items > 10_000) throw new Error("--items must be at most 10000 (one admin request; the spec's bulk limit)");
  if (typeof values.out === 'string') options.out = values.out;
  const only = typeof values.only === 'string' ? values.only : env.BENCH_ONLY;
  if (only) options.only = only.split(',').map((name) => name.trim());
  return options;
}
