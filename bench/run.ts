/**
 * `npm run bench`: TPNS call efficiency, warm and cold overhead against bare equivalents, bundle
 * sizes and worker memory, measured side by side in one run (bench/scenarios.ts). Prints the
 * tables and writes bench/results.json. Not part of `npm test` (test/bench/bench-smoke.test.ts
 * keeps the harness from rotting).
 *
 *     npm run bench                                   # the sizes, 3 runs
 *     npm run bench -- --runs 5 --cold-runs 25        # more repetitions
 *     BENCH_RUNS=5 npm run bench                      # the same through the environment
 */
import { writeFileSync } from 'node:fs';
import { runBenchmarks } from './harness.js';
import { parseBenchOptions } from './options.js';
import { detailsTable, resultsTable } from './report.js';

const argv = process.argv.slice(2);
const options = parseBenchOptions(argv, process.env);
const command = ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' ');
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`.padStart(7);
const results = await runBenchmarks(options, command, (line) => console.error(`${elapsed()} ${line}`));
console.log(`${resultsTable(results)}\n\n${detailsTable(results)}`);
if (options.out) {
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  console.error(`wrote ${options.out} in ${Math.round((performance.now() - started) / 1000)} s`);
}
