/**
 * The one generic step of `npm run bench`: starts the world, runs every scenario of
 * bench/scenarios.ts once per round (rounds interleave the scenarios, so machine noise spreads
 * over all of them), and aggregates each key's samples into median, min and max: a key with a
 * target (bench/targets.ts) is a headline figure next to its target, any other a detail.
 * Returns what bench/results.json holds. Nothing here knows a figure by name.
 */
import { cpus, totalmem, type as osType, release, arch } from 'node:os';
import type { BenchOptions } from './options.js';
import { SCENARIOS, percentile } from './scenarios.js';
import type { Samples, Scenario } from './scenarios.js';
import { TARGETS, describeGoal, goalOf, keysOf, meets, targetOf } from './targets.js';
import type { Goal } from './targets.js';
import { BenchWorld, FUNCTIONS } from './world.js';

/** Repeated measurements of one key, the way every figure is reported. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every measurement, in the order taken. */
  samples: number[];
}

/** A headline figure: the median of its samples, against its target. */
export interface Figure extends Summary {
  target: Goal;
  /** `≤ 1.15`, `< 150 KB`, `(report only)`. */
  targetText: string;
  /** null for report-only figures. */
  met: boolean | null;
  /** Why there is no median (its scenario failed in every round); the median is then NaN (null in the JSON). */
  error?: string;
}

/** Figures from different machines are not comparable: each run says where it was taken. */
export interface Machine {
  os: string;
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
}

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

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summary of no samples');
  return { median: percentile(samples, 50), min: Math.min(...samples), max: Math.max(...samples), samples: [...samples] };
}

function describeMachine(): Machine {
  const processors = cpus();
  return {
    os: `${osType()} ${release()} ${arch()}`,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
  };
}

/** Headline figures flattened to their dotted keys (`eagerKb.login`). */
export function headlineFigures(results: BenchResults): [string, Figure][] {
  return Object.entries(results)
    .filter(([key]) => !META.has(key))
    .flatMap(([key, value]): [string, Figure][] => {
      const figures = value as Figure | Record<string, Figure>;
      return 'median' in figures ? [[key, figures as Figure]] : Object.entries(figures).map(([name, figure]): [string, Figure] => [`${key}.${name}`, figure]);
    });
}

/** Headline figures nested by their first dotted part (`eagerKb.login` -> `eagerKb: { login }`), details flat. */
function aggregate(samples: ReadonlyMap<string, number[]>, missing: ReadonlyMap<string, string>) {
  const figures: Record<string, Figure | Record<string, Figure>> = {};
  const details: Record<string, Summary> = {};
  const keys = [...new Set([...samples.keys(), ...missing.keys()])].sort((a, b) => a.localeCompare(b));
  for (const key of keys) {
    const values = samples.get(key);
    const target = targetOf(key);
    if (!target) {
      if (values) details[key] = summarize(values);
      continue;
    }
    const goal = goalOf(target);
    const described = { target: goal, targetText: describeGoal(goal) };
    const figure: Figure = values
      ? { ...summarize(values), ...described, met: meets(goal, summarize(values).median) }
      : { median: Number.NaN, min: Number.NaN, max: Number.NaN, samples: [], ...described, met: goal.op === 'report' ? null : false, error: missing.get(key) ?? 'not measured' };
    const dot = key.indexOf('.');
    if (dot < 0) figures[key] = figure;
    else ((figures[key.slice(0, dot)] ??= {}) as Record<string, Figure>)[key.slice(dot + 1)] = figure;
  }
  return { figures, details };
}

export async function runBenchmarks(options: BenchOptions, command: string, log: Log = () => undefined, scenarios: readonly Scenario[] = SCENARIOS): Promise<BenchResults> {
  const orphans = Object.entries(TARGETS).filter(([, target]) => !SCENARIOS.some((scenario) => scenario.name === target.scenario));
  if (orphans.length > 0) throw new Error(`targets.ts names no scenario of scenarios.ts: ${orphans.map(([key, target]) => `${key} (${target.scenario})`).join(', ')}`);
  const unknown = options.only?.filter((name) => !scenarios.some((scenario) => scenario.name === name)) ?? [];
  if (unknown.length > 0) throw new Error(`no scenario ${unknown.join(', ')}; there are ${scenarios.map((scenario) => scenario.name).join(', ')}`);
  const chosen = options.only ? scenarios.filter((scenario) => options.only?.includes(scenario.name)) : scenarios;
  log(`building bundles into ${options.distDir}`);
  const world = await BenchWorld.start(options);
  const samples = new Map<string, number[]>();
  const failures: BenchResults['failures'] = [];
  const add = (taken: Samples) => {
    for (const [key, value] of Object.entries(taken)) {
      if (!Number.isFinite(value)) throw new Error(`figure ${key} is not a number: ${value}`);
      samples.set(key, [...(samples.get(key) ?? []), value]);
    }
  };
  try {
    const rounds = Math.max(...chosen.map((scenario) => scenario.rounds(options)));
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of chosen.filter((candidate) => round <= candidate.rounds(options))) {
        log(`round ${round}/${scenario.rounds(options)}: ${scenario.name}`);
        try {
          // Every scenario starts from a quiet world: nothing queued, TPNS idle, the emulator's counters at zero.
          await world.settle();
          add(await scenario.run({ world, options, round, log }));
        } catch (error) {
          // One scenario's failure must not cost the others' figures: recorded, the queue purged, on to the next.
          const message = error instanceof Error ? error.message : String(error);
          log(`  ${scenario.name} FAILED: ${message}`);
          failures.push({ scenario: scenario.name, round, error: message });
          await world.recover();
        }
      }
    }
  } finally {
    await world.close();
  }
  const { out: _out, distDir: _distDir, ...sizes } = options;
  const missing = new Map(failures.flatMap(({ scenario, error }) => keysOf(scenario, FUNCTIONS).map((key) => [key, error] as const)));
  const { figures, details } = aggregate(samples, missing);
  return { generatedAt: new Date().toISOString(), command, machine: describeMachine(), options: sizes, ...figures, details, failures };
}
