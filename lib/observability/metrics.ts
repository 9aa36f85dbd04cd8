/**
 * CloudWatch Embedded Metric Format via Powertools Metrics: metrics are written as structured
 * log lines, so no PutMetricData call sits on the request path. Handlers flush once per
 * invocation (`metrics.publishStoredMetrics()` or the middy middleware).
 */
import { Metrics } from '@aws-lambda-powertools/metrics';

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TpnsAccountSync',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tpns-account-sync',
});

export { MetricUnit } from '@aws-lambda-powertools/metrics';
