/**
 * Every metric the product emits, in CloudWatch Embedded Metric Format via Powertools Metrics:
 * metrics are written as structured log lines, so no PutMetricData call sits on the request
 * path. Handlers flush once per invocation (`metrics.publishStoredMetrics()` or the middy
 * middleware).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BatchReport } from '../convergence/reconciler.js';
import type { TpnsClientEvent } from '../tpns/types.js';
import { logger } from './logger.js';

/**
 * Powertools' own messages as JSON log lines, not plain text. "No application metrics to publish"
 * is the normal end of a read or an idle worker batch, not a warning: it goes to DEBUG.
 */
const details = (rest: unknown[]) => (rest.length > 0 ? { details: rest } : {});
const metricsLogger = {
  debug: (message: unknown, ...rest: unknown[]) => logger.debug(String(message), details(rest)),
  info: (message: unknown, ...rest: unknown[]) => logger.info(String(message), details(rest)),
  warn: (message: unknown, ...rest: unknown[]) =>
    String(message).startsWith('No application metrics to publish') ? logger.debug(String(message)) : logger.warn(String(message), details(rest)),
  error: (message: unknown, ...rest: unknown[]) => logger.error(String(message), details(rest)),
};

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TpnsAccountSync',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tpns-account-sync',
  logger: metricsLogger,
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

/*
 * TPNS client events (the client's `onEvent`): calls and their latency, answers by operation and
 * TPNS code, and retries by operation and code. The plain ones are added to the shared instance
 * (flushed with the invocation's other metrics); the dimensioned ones are single metrics, so
 * their dimensions stay on them.
 */

/** `bind`, `remove-accounts`, `unbind-tokens`, `delete-accounts`, `query-tokens`, `query-accounts`. */
export function tpnsOperationName(path: string, operatorType: number): string {
  const names: Record<number, string> = path.endsWith('query')
    ? { 1: 'query-tokens', 2: 'query-accounts' }
    : { 1: 'bind', 2: 'bind', 3: 'remove-accounts', 4: 'unbind-tokens', 5: 'delete-accounts' };
  return names[operatorType] ?? `op-${operatorType}`;
}

export function recordTpnsEvent(event: TpnsClientEvent): void {
  if (event.type === 'response') {
    metrics.addMetric('TpnsCalls', MetricUnit.Count, 1);
    metrics.addMetric('TpnsLatency', MetricUnit.Milliseconds, event.latencyMs);
    countWith('TpnsAnswers', 1, { operation: tpnsOperationName(event.path, event.operatorType), code: event.retCode });
  } else if (event.type === 'retry') {
    countWith('TpnsRetries', 1, { operation: tpnsOperationName(event.path, event.operatorType), code: event.code });
  }
}

/** The worker's metrics, written once per invocation: what reconciling a batch did. */
export function recordBatch(report: BatchReport, invalid: number): void {
  for (const [outcome, count] of Object.entries(report.counts)) countWith('KeysReconciled', count, { outcome });
  // Every dead letter also raises the dead-letter queue alarm (serverless.yml).
  countWith('KeysDeadLettered', report.deadLetters.length, { reason: 'key' });
  countWith('KeysDeadLettered', invalid, { reason: 'invalid-message' });
}

/** A command's answer body (`{ applied, queued?, failed }`), as counts of the invocation's items. */
export function recordItemCounts(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  if ('applied' in body && typeof body.applied === 'number') metrics.addMetric('ItemsApplied', MetricUnit.Count, body.applied);
  if ('queued' in body && typeof body.queued === 'number') metrics.addMetric('ItemsQueued', MetricUnit.Count, body.queued);
  if ('failed' in body && Array.isArray(body.failed)) metrics.addMetric('ItemsFailed', MetricUnit.Count, body.failed.length);
}
