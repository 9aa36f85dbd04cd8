/** The results as Markdown tables (printed by `npm run bench`, pasted into docs/performance.md). */
import { headlineFigures } from './harness.js';
import type { BenchResults, Figure, Summary } from './harness.js';
import { TARGETS, targetOf } from './targets.js';

const digits = (value: number) => (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3);
const show = (value: number) => value.toFixed(digits(value));
const range = (summary: Summary) =>
  Number.isNaN(summary.median) ? 'not measured' : summary.samples.length > 1 ? `${show(summary.median)} (${show(summary.min)}–${show(summary.max)})` : show(summary.median);
const verdict = (figure: Figure) => (figure.met === null ? '' : figure.met ? 'met' : '**missed**');

/** The target's label; a per-function figure's names its function. */
function label(key: string): string {
  const dot = key.indexOf('.');
  const text = targetOf(key)?.label ?? key;
  return dot > 0 ? `${text}: \`${key.slice(dot + 1)}\`` : text;
}

/** Headline figures in the order of bench/targets.ts (results.json holds them sorted by key). */
const ORDER = Object.keys(TARGETS).map((key) => key.replace(/\*$/, ''));
const rank = (key: string) => ORDER.findIndex((prefix) => key === prefix || (prefix.endsWith('.') && key.startsWith(prefix)));

export function resultsTable(results: BenchResults): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const { machine, options } = results;
  return [
    line(['Figure', 'Key', 'Median (min–max)', 'Target', '']),
    line(['---', '---', '---', '---', '---']),
    ...headlineFigures(results)
      .sort(([a], [b]) => rank(a) - rank(b))
      .map(([key, figure]) => line([label(key), `\`${key}\``, range(figure), figure.targetText, verdict(figure)])),
    '',
    ...results.failures.map(({ scenario, round, error }) => `Scenario \`${scenario}\` failed in round ${round}: ${error}`),
    ...(results.failures.length > 0 ? [''] : []),
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}. ` +
      `Options: ${Object.entries(options).filter(([, value]) => value !== undefined).map(([name, value]) => `${name} ${String(value)}`).join(', ')}. Command: \`${results.command}\`.`,
  ].join('\n');
}

export function detailsTable(results: BenchResults): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(['Detail', 'Median (min–max)']), line(['---', '---']), ...Object.entries(results.details).map(([key, summary]) => line([`\`${key}\``, range(summary)]))].join('\n');
}
