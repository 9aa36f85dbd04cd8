/**
 * Captures everything the process writes to stdout and stderr (the Powertools logger and
 * metrics write there, as Lambda's runtime expects), so tests can read the JSON log lines and
 * the CloudWatch EMF metric lines.
 */
import { appendFileSync } from 'node:fs';

type Write = typeof process.stdout.write;

export interface CapturedOutput {
  /** Every complete line written so far. */
  lines(): string[];
  /** The lines that parse as JSON objects. */
  json(): Record<string, unknown>[];
  stop(): void;
}

/** CAPTURE_TEE=<file> also appends everything captured to that file (to read a run's logs). */
export function captureOutput(): CapturedOutput {
  const tee = process.env.CAPTURE_TEE;
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      if (tee) appendFileSync(tee, chunks.at(-1) ?? '');
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as Write;
  }
  const lines = () => chunks.join('').split('\n').filter((line) => line.trim() !== '');
  return {
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
    stop: () => streams.forEach((stream, index) => (stream.write = originals[index] as Write)),
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
