/**
 * What the code under test writes: the Powertools logger and metrics write JSON log lines and
 * CloudWatch EMF lines to stdout/stderr, as Lambda's runtime expects. `captureOutput` records
 * them for a test to read; the matchers (registered by setup.ts) ask about them by meaning:
 *
 *   expect(output).toHaveLogged({ level: 'ERROR', message: 'Key does not converge; dead-lettered' });
 *   expect(output).toHaveEmittedMetric('KeysDeadLettered', { dimensions: { reason: 'key' }, sum: 1 });
 */
import { appendFileSync } from 'node:fs';
import { expect } from 'vitest';

type Write = typeof process.stdout.write;

export interface CapturedOutput {
  /** Every non-empty line written so far. */
  lines(): string[];
  /** The lines that parse as JSON objects (log lines and EMF lines). */
  json(): Record<string, unknown>[];
  /** Everything written so far, as one string. */
  text(): string;
  stop(): void;
}

/**
 * Captures stdout and stderr from now until `stop()`. `passThrough` (default) also hands every
 * write on to the writer in place before (setup.ts's, which shows a failing test's output); a
 * long soak turns it off. CAPTURE_TEE=<file> also appends everything to that file.
 */
export function captureOutput({ passThrough = true }: { passThrough?: boolean } = {}): CapturedOutput {
  const tee = process.env.CAPTURE_TEE;
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const previous = streams.map((stream) => stream.write);
  streams.forEach((stream, index) => {
    const before = previous[index] as Write;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      chunks.push(text);
      if (tee) appendFileSync(tee, text);
      if (passThrough) return (before as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
      rest.find((arg): arg is () => void => typeof arg === 'function')?.();
      return true;
    }) as Write;
  });
  const text = () => chunks.join('');
  const lines = () => text().split('\n').filter((line) => line.trim() !== '');
  return {
    text,
    lines,
    json: () =>
      lines().flatMap((line) => {
        try {
          const value: unknown = JSON.parse(line);
          return typeof value === 'object' && value !== null && !Array.isArray(value) ? [value as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      }),
    stop: () => streams.forEach((stream, index) => (stream.write = previous[index] as Write)),
  };
}

interface EmfDirective {
  Dimensions: string[][];
  Metrics: { Name: string }[];
}

/** One metric value of an EMF line, with the line's dimension values. */
export interface EmfPoint {
  name: string;
  value: number;
  dimensions: Record<string, string>;
}

/** The metric points of CloudWatch Embedded Metric Format lines (`_aws.CloudWatchMetrics`). */
export function emfPoints(lines: readonly Record<string, unknown>[]): EmfPoint[] {
  return lines.flatMap((line) => {
    const directives = (line._aws as { CloudWatchMetrics?: EmfDirective[] } | undefined)?.CloudWatchMetrics;
    if (!directives) return [];
    return directives.flatMap((directive) => {
      const dimensions = Object.fromEntries(directive.Dimensions.flat().map((name) => [name, String(line[name])]));
      return directive.Metrics.flatMap(({ Name }) => {
        const raw = line[Name];
        const values = Array.isArray(raw) ? raw : [raw];
        return values.map((value) => ({ name: Name, value: Number(value), dimensions }));
      });
    });
  });
}

/** Sum of a metric over all points, optionally only those with the given dimension values. */
export function metricSum(points: readonly EmfPoint[], name: string, dimensions: Record<string, string> = {}): number {
  return points
    .filter((point) => point.name === name && Object.entries(dimensions).every(([key, value]) => point.dimensions[key] === value))
    .reduce((sum, point) => sum + point.value, 0);
}

export interface MetricExpectation {
  /** Only points with these dimension values. */
  dimensions?: Record<string, string>;
  /** The exact sum of those points; without it, any sum above 0. */
  sum?: number;
}

interface OutputMatchers<R = unknown> {
  /** A JSON log line holding every given field (values compared as `toMatchObject` does). */
  toHaveLogged(fields: Record<string, unknown>): R;
  /** EMF points of this metric (with these dimensions) summing to `sum`, or to more than 0. */
  toHaveEmittedMetric(name: string, expectation?: MetricExpectation): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars -- how vitest takes custom matchers (its own type parameters)
  interface Matchers<R extends void | Promise<void> = void | Promise<void>, T = unknown> extends OutputMatchers<R> {}
}

const isOutput = (value: unknown): value is CapturedOutput => typeof value === 'object' && value !== null && 'json' in value && typeof value.json === 'function';

/** Registers the matchers (setup.ts does, for every test file). */
export function registerOutputMatchers(): void {
  expect.extend({
    toHaveLogged(received: unknown, fields: Record<string, unknown>) {
      if (!isOutput(received)) throw new TypeError('toHaveLogged expects a CapturedOutput (captureOutput())');
      const lines = received.json().filter((line) => !('_aws' in line));
      const pass = lines.some((line) => this.equals(line, expect.objectContaining(fields)));
      return {
        pass,
        message: () =>
          `expected ${pass ? 'no' : 'a'} log line with ${this.utils.printExpected(fields)} among ${lines.length}` +
          (pass ? '' : `; messages logged: ${this.utils.printReceived([...new Set(lines.map((line) => line.message))].slice(0, 20))}`),
      };
    },
    toHaveEmittedMetric(received: unknown, name: string, { dimensions = {}, sum }: MetricExpectation = {}) {
      if (!isOutput(received)) throw new TypeError('toHaveEmittedMetric expects a CapturedOutput (captureOutput())');
      const points = emfPoints(received.json());
      const total = metricSum(points, name, dimensions);
      const pass = sum === undefined ? total > 0 : total === sum;
      return {
        pass,
        message: () =>
          `expected metric ${name} ${this.utils.printExpected(dimensions)} to sum to ${sum === undefined ? 'more than 0' : sum}${pass ? ' not' : ''}; it sums to ${total} ` +
          `(metrics emitted: ${this.utils.printReceived([...new Set(points.map((point) => point.name))])})`,
      };
    },
  });
}

/**
 * Figures a test prints on purpose (a soak's counts), as text a person reads in `npm test`'s
 * output: `{ a: 1, b: { c: 2 } }` becomes `a 1, b.c 2`.
 */
export function figureText(figures: Readonly<Record<string, unknown>>, prefix = ''): string {
  return Object.entries(figures)
    .map(([key, value]) =>
      value !== null && typeof value === 'object' && !Array.isArray(value) ? figureText(value as Record<string, unknown>, `${prefix}${key}.`) : `${prefix}${key} ${Array.isArray(value) ? value.join('/') : String(value)}`,
    )
    .filter(Boolean)
    .join(', ');
}
