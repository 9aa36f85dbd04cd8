/** Summaries of repeated measurements: median, min and max, the way every figure is reported. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every measurement, in the order taken. */
  samples: number[];
}

/** The value below which `p` (0-100) percent of `values` fall (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summary of no samples');
  return { median: percentile(samples, 50), min: Math.min(...samples), max: Math.max(...samples), samples: [...samples] };
}

/** Rounded for reports: ratios to 2 decimals are what the tables show; keep 3 in the JSON. */
export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));
