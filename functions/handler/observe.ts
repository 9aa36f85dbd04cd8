/** What every chain starts with: the logger's Lambda context and the invocation's metrics (flushed at its end). */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { logger } from '../../lib/observability/logger.js';
import { metrics } from '../../lib/observability/metrics.js';

export const observe = () => [injectLambdaContext(logger, { resetKeys: true }), logMetrics(metrics, { captureColdStartMetric: true })];
