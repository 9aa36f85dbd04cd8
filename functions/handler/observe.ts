/** What every chain starts with: the logger's Lambda context and the invocation's metrics (flushed at its end). */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { logger } from '../../lib/observability/logger.js';
import { metrics, MetricUnit } from '../../lib/observability/metrics.js';

export const observe = () => [injectLambdaContext(logger, { resetKeys: true }), logMetrics(metrics, { captureColdStartMetric: true })];

/** Applied/queued/failed counts of a command's answer (`{ status, body }` or the body), as EMF metrics. */
export function recordAnswer(answer: unknown): void {
  const body = typeof answer === 'object' && answer !== null && 'body' in answer ? answer.body : answer;
  if (typeof body !== 'object' || body === null) return;
  const counts = body as { applied?: unknown; queued?: unknown; failed?: unknown };
  if (typeof counts.applied === 'number') metrics.addMetric('ItemsApplied', MetricUnit.Count, counts.applied);
  if (typeof counts.queued === 'number') metrics.addMetric('ItemsQueued', MetricUnit.Count, counts.queued);
  if (Array.isArray(counts.failed)) metrics.addMetric('ItemsFailed', MetricUnit.Count, counts.failed.length);
}
