/** The results as Markdown tables (printed by `npm run bench`, pasted into docs/performance.md). */
import { headlineFigures } from './harness.js';
import type { BenchResults, Figure } from './harness.js';
import type { Summary } from './stats.js';

/** What each headline figure measures, for the table. */
const LABELS: Record<string, string> = {
  opCallsPerMinimum: 'admin bulk: TPNS op calls / ceil(items / 20) per platform',
  verifyCallsPerItem: 'admin bulk: TPNS query (read-back) calls per item',
  opCallsPerSignInHealthy: 'healthy sign-ins: TPNS op calls per sign-in (direct + worker)',
  verifyCallsPerSignInHealthy: 'healthy sign-ins: TPNS query (read-back) calls per sign-in',
  opCallsPerSignInBurst: "queued burst (TPNS failed the direct attempts, then recovered): the worker's op calls per sign-in",
  warmP50VsPlainFetch: 'warm sign-in p50 / plain signed fetch of the op 2 call',
  warmP50VsBareEquivalent: 'warm sign-in p50 / the same ledger write, TPNS call and SQS send done plainly',
  coldFirstCallVsBareEquivalent: 'cold start (fresh process: import + first call) / the bare equivalent',
  eagerKb: 'eagerly loaded code, KB',
  workerPeakRssMb: 'worker container peak RSS during the admin bulk, MB',
};

const digits = (value: number) => (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3);
const show = (value: number) => value.toFixed(digits(value));
const range = (summary: Summary) =>
  Number.isNaN(summary.median) ? 'not measured' : summary.samples.length > 1 ? `${show(summary.median)} (${show(summary.min)}–${show(summary.max)})` : show(summary.median);
const verdict = (figure: Figure) => (figure.met === null ? '' : figure.met ? 'met' : '**missed**');

function label(key: string): string {
  const [group = key, name] = key.split('.');
  return name ? `${LABELS[group] ?? group}: \`${name}\`` : (LABELS[key] ?? key);
}

export function resultsTable(results: BenchResults): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const { machine, options } = results;
  return [
    line(['Figure', 'Key', 'Median (min–max)', 'Target', '']),
    line(['---', '---', '---', '---', '---']),
    ...headlineFigures(results).map(([key, figure]) => line([label(key), `\`${key}\``, range(figure), figure.targetText, verdict(figure)])),
    '',
    ...results.failures.map(({ scenario, round, error }) => `Scenario \`${scenario}\` failed in round ${round}: ${error}`),
    ...(results.failures.length > 0 ? [''] : []),
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}. ` +
      `${options.runs} run(s) of ${options.items} bulk binds, ${options.signIns} healthy and ${options.signIns} queued sign-ins, ${options.warmRequests} warm requests; ` +
      `${options.coldRuns} cold-start process(es) per function. Command: \`${results.command}\`.`,
  ].join('\n');
}

export function detailsTable(results: BenchResults): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(['Detail', 'Median (min–max)']), line(['---', '---']), ...Object.entries(results.details).map(([key, summary]) => line([`\`${key}\``, range(summary)]))].join('\n');
}
