/**
 * Keeps `npm run bench` from rotting: the whole harness at a tiny size (real bundles, the test
 * stack, worker containers, cold-start processes), written the way bench/run.ts writes it, and
 * checked to hold every headline figure as a number next to its target. No timing assertions:
 * the figures themselves come from `npm run bench`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { headlineFigures, runBenchmarks } from '../../bench/harness.js';
import type { BenchResults } from '../../bench/harness.js';
import { DEFAULT_OPTIONS } from '../../bench/options.js';
import { resultsTable } from '../../bench/report.js';

const DIST = 'dist/bench-smoke';
const OUT = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
const FUNCTIONS = ['login', 'logout', 'delete-account', 'query', 'bind-worker'];
/** The keys bench/results.json must hold, each a median next to its target. */
const KEYS = [
  'opCallsPerMinimum',
  'verifyCallsPerItem',
  'opCallsPerSignInHealthy',
  'verifyCallsPerSignInHealthy',
  'opCallsPerSignInBurst',
  'warmP50VsPlainFetch',
  'signingCpuVsSdkHash',
  'warmP50VsBareEquivalent',
  ...FUNCTIONS.map((name) => `coldFirstCallVsBareEquivalent.${name}`),
  ...FUNCTIONS.map((name) => `eagerKb.${name}`),
  'workerPeakRssMb',
  'bulkCpuAtDeployedMemoryVsTimeout',
  'workerCpuAtDeployedMemoryVsTimeout',
  'bulkLoginPeakRssVsMemory',
  'bulkUnbindCpuAtDeployedMemoryVsTimeout',
  'bulkDeleteCpuAtDeployedMemoryVsTimeout',
];

describe('npm run bench, tiny', () => {
  afterAll(() => {
    rmSync(DIST, { recursive: true, force: true });
    rmSync(OUT, { recursive: true, force: true });
  });

  it('runs every scenario and writes every headline figure with its target', async () => {
    const results = await runBenchmarks(
      { ...DEFAULT_OPTIONS, items: 100, signIns: 40, runs: 1, warmRequests: 5, coldRuns: 1, out: undefined, distDir: DIST },
      'vitest',
    );
    const file = join(OUT, 'results.json');
    writeFileSync(file, JSON.stringify(results));
    const written = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;

    const figures = Object.fromEntries(headlineFigures(written));
    expect(Object.keys(figures).sort()).toEqual([...KEYS].sort());
    for (const key of KEYS) {
      const figure = figures[key]!;
      expect(Number.isFinite(figure.median), key).toBe(true);
      expect(figure.median, key).toBeGreaterThan(0);
      expect(figure.samples.length, key).toBeGreaterThan(0);
      expect(figure.target, key).toMatchObject({ op: expect.stringMatching(/^(<=|<|report)$/) });
      expect(figure.targetText, key).toEqual(expect.any(String));
      if (figure.target.op === 'report') expect(figure.met, key).toBeNull();
      else {
        expect(figure.target.value, key).toEqual(expect.any(Number));
        expect(figure.met, key).toEqual(expect.any(Boolean));
      }
    }
    // Counted, not timed: the admin bulk's calls can never beat the physical minimum nor read back less than once per 20 items.
    expect(figures.opCallsPerMinimum!.median).toBeGreaterThanOrEqual(1);
    expect(figures.verifyCallsPerItem!.median).toBeGreaterThanOrEqual(0.05);
    // Every healthy sign-in is one direct op call.
    expect(figures.opCallsPerSignInHealthy!.median).toBeGreaterThanOrEqual(1);
    expect(written.details['bulk.items']?.median).toBe(100);
    expect(written.machine.node).toMatch(/^v24\./);
    expect(written.command).toBe('vitest');
    expect(written.failures).toEqual([]);
    expect(resultsTable(written)).toContain('`coldFirstCallVsBareEquivalent.bind-worker`');
  }, 120_000);
});
