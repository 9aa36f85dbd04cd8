/** The results as a Markdown table (printed by `npm run bench`, pasted into docs/performance.md). */
import { EMPTY_HANDLER, FETCH_HANDLER } from './cold-start.js';
import { TARGETS } from './harness.js';
import type { BenchResults } from './harness.js';
import type { Summary } from './stats.js';

const fixed = (value: number, digits: number) => value.toFixed(digits);
const range = (summary: Summary, digits: number, unit = '') =>
  `${fixed(summary.median, digits)}${unit} (${fixed(summary.min, digits)}–${fixed(summary.max, digits)})`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** 10000 -> `10 000`. */
const count = (value: number) => value.toLocaleString('en').replace(/,/g, ' ');
const cpuLine = (cpu: Record<'bench' | 'workers' | 'sqs' | 'emulator' | 'total', Summary>) =>
  `${fixed(cpu.total.median, 0)} = ${[cpu.bench, cpu.workers, cpu.sqs, cpu.emulator].map((part) => fixed(part.median, 0)).join(' + ')}`;
const verdict = (met: boolean) => (met ? 'met' : '**missed**');

export function resultsTable(results: BenchResults): string {
  const { efficiency, throughput, healthyPath, warm, workerPeakRssMb } = results.figures;
  const rows: string[][] = [
    ['Figure', 'Median (min–max)', 'Target', ''],
    ...(
      [
        ['bulk binds', efficiency.bulkBind],
        ['tokens signed out in bulk', efficiency.bulkUnbind],
        ['account deletions in bulk (both apps, 2 per account)', efficiency.deleteAccounts],
      ] as const
    ).map(([label, figures]) => [
      `TPNS calls / minimum: ${count(figures.items)} ${label} (${figures.calls} calls, minimum ${figures.minimum})`,
      range(figures.ratio, 2),
      '1.00',
      verdict(figures.ratio.median <= TARGETS.tpnsCallRatio.max),
    ]),
    [
      `TPNS calls per sign-in, burst of ${count(efficiency.burst.items)} queued sign-ins (half Android, half iOS)`,
      fixed(results.callsPerSignIn, 3),
      '≤ 0.1',
      verdict(results.callsPerSignIn <= TARGETS.callsPerSignIn.max),
    ],
    [
      `… the same burst, every sign-in on one platform`,
      fixed(results.callsPerSignInOnePlatform, 3),
      '≤ 0.1',
      verdict(results.callsPerSignInOnePlatform <= TARGETS.callsPerSignIn.max),
    ],
    [`… the mixed burst arriving while the workers poll (no backlog)`, fixed(results.callsPerSignInLive, 3), '(info)', ''],
    [
      `TPNS calls per sign-in, TPNS healthy: burst of ${count(healthyPath.burst.signIns)} direct sign-ins (half Android, half iOS), 1 direct + the worker's confirmations`,
      `${range(healthyPath.burst.callsPerSignIn, 3)} = 1 + ${fixed(healthyPath.burst.workerCallsPerSignIn.median, 3)}`,
      '(info)',
      '',
    ],
    [
      `… the worker's calls for the warm sign-ins' ${count(healthyPath.warm.signIns)} confirmations (Android, drained after the warm run)`,
      range(healthyPath.warm.workerCallsPerSignIn, 3),
      '(info)',
      '',
    ],
    [
      `Throughput end to end, items/s (${throughput.workerConcurrency} worker invocations, ${throughput.concurrency} TPNS calls in flight at most)`,
      range(throughput.pipelineItemsPerSecond, 0),
      '',
      '',
    ],
    ['… raw signed fetch, 20 items per call, same concurrency', range(throughput.rawItemsPerSecond, 0), '', ''],
    ['… naive: one call per binding, same concurrency', range(throughput.naiveItemsPerSecond, 0), '', ''],
    [
      'CPU ms per 1 000 items, end to end: bench process (handler, event source) + workers + fauxqs + emulator',
      cpuLine(throughput.cpuMsPer1000Items.pipeline),
      '(info)',
      '',
    ],
    ['… raw signed fetch: bench process (fetch) + workers + fauxqs + emulator', cpuLine(throughput.cpuMsPer1000Items.raw), '(info)', ''],
    ['Throughput vs raw', range(throughput.vsRaw, 2), '≥ 0.8', verdict(results.throughputVsRaw >= TARGETS.throughputVsRaw.min)],
    ['Throughput vs naive', range(throughput.vsNaive, 1, 'x'), '(info)', ''],
    [
      `Throughput with ${throughput.withLatency.latencyMs} ms TPNS latency on every call, items/s (same concurrency)`,
      range(throughput.withLatency.pipelineItemsPerSecond, 0),
      '',
      '',
    ],
    ['… raw signed fetch, same latency and concurrency', range(throughput.withLatency.rawItemsPerSecond, 0), '', ''],
    [
      `Throughput vs raw, ${throughput.withLatency.latencyMs} ms TPNS latency`,
      range(throughput.withLatency.vsRaw, 2),
      '≥ 0.8',
      verdict(results.throughputVsRawWithLatency >= TARGETS.throughputVsRaw.min),
    ],
    [`Warm sign-in p50, ms (${warm.requests} requests)`, range(warm.handlerP50Ms, 2), '', ''],
    ['… plain signed fetch p50, ms', range(warm.rawP50Ms, 2), '', ''],
    ['Warm p50 vs plain fetch', range(warm.p50VsRaw, 2), '≤ 1.15', verdict(results.warmP50VsRaw <= TARGETS.warmP50VsRaw.max)],
    ['… plain signed fetch + plain SQS SendMessage, concurrently (the same work bare) p50, ms', range(warm.rawWithSqsP50Ms, 2), '(info)', ''],
    ['Warm p50 vs plain fetch + SQS send', range(warm.p50VsRawWithSqs, 2), '(info)', ''],
    [`Warm sign-in p99, ms (plain fetch: ${fixed(warm.rawP99Ms.median, 2)})`, range(warm.handlerP99Ms, 2), '(info)', ''],
    [
      `Worker invocation, bulk (${fixed(results.figures.workerInvocations.bulk.itemsPerInvocation, 0)} items), ms`,
      range(results.figures.workerInvocations.bulk.medianMs, 1),
      '(info)',
      '',
    ],
    [
      `Worker invocation, burst (${fixed(results.figures.workerInvocations.burst.signInsPerInvocation, 1)} sign-ins), ms`,
      range(results.figures.workerInvocations.burst.medianMs, 1),
      '(info)',
      '',
    ],
    [`Worker peak RSS, MB (${count(efficiency.bulkBind.items)}-item run)`, range(workerPeakRssMb, 1), '≤ 128', verdict(results.workerPeakRssMb <= TARGETS.workerPeakRssMb.max)],
  ];
  const baselines = new Set([EMPTY_HANDLER, FETCH_HANDLER]);
  for (const [name, cold] of Object.entries(results.coldStart)) {
    if (baselines.has(name)) continue;
    const sizeMet = cold.bytes <= TARGETS.coldStartBytes.max;
    const timeMet = cold.vsEmpty <= TARGETS.coldStartVsEmpty.max;
    rows.push([
      `Cold start \`${name}\`: eager KB (lazy KB); import ms; import + first call ms`,
      `${fixed(cold.bytes / 1024, 1)} (${fixed(cold.lazyBytes / 1024, 0)}); ${range(cold.importMs, 1)} = ${fixed(cold.importVsEmpty, 1)}x empty; ` +
        `${range(cold.firstCallMs, 1)} = ${fixed(cold.vsEmpty, 1)}x empty, ${fixed(cold.vsFetchHandler, 2)}x plain-fetch handler`,
      '< 150 KB; first call ≤ 3x empty',
      `${verdict(sizeMet)}; ${verdict(timeMet)}`,
    ]);
  }
  for (const [name, label] of [
    [EMPTY_HANDLER, 'empty handler'],
    [FETCH_HANDLER, 'plain-fetch handler (one signed op 2 call, no framework)'],
  ] as const) {
    const cold = results.coldStart[name];
    if (cold) rows.push([`Cold start baseline, ${label}: import ms; import + first call ms`, `${range(cold.importMs, 1)}; ${range(cold.firstCallMs, 1)}`, '', '']);
  }
  const [header = [], ...body] = rows;
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const { machine } = results;
  return [
    line(header),
    line(header.map(() => '---')),
    ...body.map(line),
    '',
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}. ` +
      `${plural(results.options.runs, 'run')} (cold start: ${plural(results.options.coldRuns, 'process', 'processes')} per function). Command: \`${results.command}\`.`,
  ].join('\n');
}
