/**
 * CloudWatch Embedded Metric Format via Powertools Metrics: metrics are written as structured
 * log lines, so no PutMetricData call sits on the request path. Handlers flush once per
 * invocation (`metrics.publishStoredMetrics()` or the middy middleware).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from './logger.js';

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TpnsAccountSync',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tpns-account-sync',
  // Its own warnings ("No application metrics to publish") as JSON log lines, not plain text.
  logger,
});

export { MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * One single-metric instance, reused: each addMetric publishes its line at once and clears its
 * dimensions. A new `singleMetric()` per count re-read every POWERTOOLS_* variable and built a
 * Console each time: a third of a warm sign-in's overhead (profiled), paid on every TPNS answer.
 */
let single: Metrics | undefined;

/** A count with its own dimensions (an EMF line of its own), so dimensions never leak onto other metrics. */
export function countWith(name: string, value: number, dimensions: Record<string, string>): void {
  if (value === 0) return;
  single ??= metrics.singleMetric();
  // Powertools drops an empty dimension with a warning per call: name it instead.
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension === '' ? 'NONE' : dimension);
  single.addMetric(name, MetricUnit.Count, value);
}
