/**
 * SQS trigger: reconciles and verifies the queued keys, answers `batchItemFailures`.
 *
 *   logger context -> metrics (flushed per invocation) -> SQS event check -> runtime (cached)
 *   -> lib/worker (coalesce keys) -> lib/convergence (push, read back, repair) -> lib/tpns
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { getRuntime } from '../lib/config/runtime.js';
import { logger } from '../lib/observability/logger.js';
import { metrics } from '../lib/observability/metrics.js';
import { parseSqsEvent } from '../lib/worker/key-record.js';
import { reconcileBatch } from '../lib/worker/reconcile-batch.js';

export const handler = middy<unknown, SQSBatchResponse, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler(async (event) => {
    const batch = parseSqsEvent(event);
    const runtime = await getRuntime(process.env, { worker: true });
    return reconcileBatch(batch, runtime);
  });
