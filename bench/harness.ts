/**
 * The one generic step of `npm run bench`: builds the bundles, starts the world, runs every
 * scenario of bench/scenarios.ts once per round (rounds interleave the scenarios, so machine
 * noise spreads over all of them), and aggregates each figure's samples into its median, min and
 * max, next to its target (bench/targets.ts). Returns what bench/results.json holds.
 */
import { buildBundles } from './cold-start.js';
import { describeMachine } from './machine.js';
import type { Machine } from './machine.js';
import type { BenchOptions } from './options.js';
import { SCENARIOS } from './scenarios.js';
import type { Samples, Scenario } from './scenarios.js';
import { summarize } from './stats.js';
import type { Summary } from './stats.js';
import { describeTarget, meets, targetOf } from './targets.js';
import type { Target } from './targets.js';
import { BenchWorld } from './world.js';

/** A headline figure: the median of its samples, against its target. */
export interface Figure extends Summary {
  target: Target;
  /** `≤ 1.15`, `< 150 KB`, `(report only)`. */
  targetText: string;
  /** null for report-only figures. */
  met: boolean | null;
  /** Why there is no median (its scenario failed in every round); the median is then NaN (null in the JSON). */
  error?: string;
}

type Figures = Record<string, Figure | Record<string, Figure>>;

/**
 * bench/results.json: the run's description, then every headline figure under its own key
 * (`opCallsPerMinimum`, ...; `coldFirstCallVsBareEquivalent` and `eagerKb` hold one per
 * function), then every other sample under `details`.
 */
export interface BenchResults {
  generatedAt: string;
  command: string;
  machine: Machine;
  options: Omit<BenchOptions, 'out' | 'distDir'>;
  /** Every other sample, by `<scenario>.<figure>`. */
  details: Record<string, Summary>;
  /** Rounds a scenario could not finish, with the error (the other scenarios went on). */
  failures: { scenario: string; round: number; error: string }[];
  [figure: string]: unknown;
}

const META = new Set(['generatedAt', 'command', 'machine', 'options', 'details', 'failures']);

type Log = (line: string) => void;

/** Headline figures flattened to their dotted keys (`eagerKb.login`). */
export function headlineFigures(results: BenchResults): [string, Figure][] {
  return Object.entries(results)
    .filter(([key]) => !META.has(key))
    .flatMap(([key, value]): [string, Figure][] => {
      const figures = value as Figure | Record<string, Figure>;
      return 'median' in figures ? [[key, figures as Figure]] : Object.entries(figures).map(([name, figure]): [string, Figure] => [`${key}.${name}`, figure]);
    });
}

function aggregate(samples: ReadonlyMap<string, number[]>, missing: ReadonlyMap<string, string>): { figures: Figures; details: Record<string, Summary> } {
  const figures: Figures = {};
  const details: Record<string, Summary> = {};
  const keys = [...new Set([...samples.keys(), ...missing.keys()])].sort((a, b) => a.localeCompare(b));
  for (const key of keys) {
    const values = samples.get(key);
    const target = targetOf(key);
    if (!target) {
      if (values) details[key] = summarize(values);
      continue;
    }
    const figure: Figure = values
      ? { ...summarize(values), target, targetText: describeTarget(target), met: meets(target, summarize(values).median) }
      : { median: Number.NaN, min: Number.NaN, max: Number.NaN, samples: [], target, targetText: describeTarget(target), met: target.op === 'report' ? null : false, error: missing.get(key) ?? 'not measured' };
    const dot = key.indexOf('.');
    if (dot < 0) figures[key] = figure;
    else {
      const group = (figures[key.slice(0, dot)] ??= {}) as Record<string, Figure>;
      group[key.slice(dot + 1)] = figure;
    }
  }
  return { figures, details };
}

export async function runBenchmarks(options: BenchOptions, command: string, log: Log = () => undefined, scenarios: readonly Scenario[] = SCENARIOS): Promise<BenchResults> {
  log(`building bundles into ${options.distDir}`);
  const build = await buildBundles(options.distDir);
  const world = await BenchWorld.start(build.bundles, { workerConcurrency: options.workerConcurrency });
  const samples = new Map<string, number[]>();
  const failures: BenchResults['failures'] = [];
  const add = (taken: Samples) => {
    for (const [key, value] of Object.entries(taken)) {
      if (!Number.isFinite(value)) throw new Error(`figure ${key} is not a number: ${value}`);
      samples.set(key, [...(samples.get(key) ?? []), value]);
    }
  };
  try {
    const rounds = Math.max(...scenarios.map((scenario) => scenario.rounds(options)));
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of scenarios.filter((candidate) => round <= candidate.rounds(options))) {
        log(`round ${round}/${scenario.rounds(options)}: ${scenario.name}`);
        try {
          // Every scenario starts from a quiet world: nothing queued, TPNS idle, the emulator's counters at zero.
          await world.settle();
          add(await scenario.run({ world, build, options, round, log }));
        } catch (error) {
          // One scenario's failure must not cost the others' figures: recorded, the queue purged, on to the next.
          const message = error instanceof Error ? error.message : String(error);
          log(`  ${scenario.name} FAILED: ${message}`);
          failures.push({ scenario: scenario.name, round, error: message });
          await world.stopWorkers();
          await world.purgeQueue();
          world.stack.tpns.clearFaults();
        }
      }
    }
  } finally {
    await world.close();
  }
  const { out: _out, distDir: _distDir, ...sizes } = options;
  const missing = new Map(
    failures.flatMap(({ scenario, error }) => (scenarios.find((candidate) => candidate.name === scenario)?.figures ?? []).map((key) => [key, error] as const)),
  );
  const { figures, details } = aggregate(samples, missing);
  return { generatedAt: new Date().toISOString(), command, machine: describeMachine(), options: sizes, ...figures, details, failures };
}
