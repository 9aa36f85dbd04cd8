/**
 * Keeps `npm run bench` from rotting: the whole harness at a tiny size (real emulator, fauxqs,
 * worker processes, cold-start processes), checking the call accounting and the shape of
 * bench/results.json. No timing assertions: the figures themselves come from `npm run bench`.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchmarks } from '../../bench/harness.js';
import type { BenchResults } from '../../bench/harness.js';
import { DEFAULT_OPTIONS } from '../../bench/options.js';

const DIST = 'dist/bench-smoke';
const FUNCTIONS = ['login', 'logout', 'delete-account', 'query', 'bind-worker'];

describe('npm run bench, tiny', () => {
  afterAll(() => rmSync(DIST, { recursive: true, force: true }));

  it('applies every item in the minimum number of TPNS calls and reports every figure', async () => {
    const results: BenchResults = await runBenchmarks(
      { ...DEFAULT_OPTIONS, items: 100, accounts: 40, burst: 40, naiveItems: 20, runs: 1, warmRequests: 5, coldRuns: 1, out: undefined, distDir: DIST },
      'vitest',
    );

    // Call efficiency is exact, not a timing: 100 binds (50 per app) = 3 + 3 calls.
    expect(results.tpnsCallRatio).toBe(1);
    const { efficiency } = results.figures;
    expect(efficiency.bulkBind).toMatchObject({ items: 100, calls: 6, minimum: 6 });
    expect(efficiency.bulkUnbind).toMatchObject({ items: 100, calls: 6, minimum: 6 });
    expect(efficiency.deleteAccounts).toMatchObject({ items: 80, calls: 4, minimum: 4 });
    // Coalescing: 40 single sign-ins never cost 40 calls.
    expect(efficiency.burstOnePlatform.calls).toBeLessThan(40);

    for (const key of [
      'callsPerSignIn',
      'callsPerSignInOnePlatform',
      'callsPerSignInLive',
      'throughputVsRaw',
      'throughputVsRawWithLatency',
      'throughputVsNaive',
      'warmP50VsRaw',
      'warmP99VsRaw',
      'workerPeakRssMb',
    ] as const) {
      expect(results[key], key).toBeGreaterThan(0);
      expect(Number.isFinite(results[key]), key).toBe(true);
    }
    for (const name of FUNCTIONS) {
      const cold = results.coldStart[name];
      expect(cold, name).toBeDefined();
      expect(cold?.bytes).toBeGreaterThan(0);
      expect(cold?.vsEmpty).toBeGreaterThan(0);
      expect(cold?.topContributors.length).toBeGreaterThan(0);
    }
    expect(results.coldStart['empty-handler']?.firstCallMs.samples).toHaveLength(1);
    expect(results.figures.throughput.pipelineItemsPerSecond).toMatchObject({ median: expect.any(Number), min: expect.any(Number), max: expect.any(Number) });
    expect(results.machine).toMatchObject({ os: expect.any(String), cpuModel: expect.any(String), cores: expect.any(Number), memoryGb: expect.any(Number) });
    expect(results.machine.node).toMatch(/^v24\./);
    expect(results.command).toBe('vitest');
  }, 60_000);
});
