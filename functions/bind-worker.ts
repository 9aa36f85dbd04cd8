/**
 * SQS trigger: applies queued chunks at TPNS and answers `batchItemFailures`.
 *
 *   logger context -> metrics (flushed per invocation) -> SQS event check -> runtime (cached)
 *   -> lib/worker (coalesce, apply, dead-letter) -> lib/tpns
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { getRuntime } from '../lib/config/runtime.js';
import { logger } from '../lib/observability/logger.js';
import { metrics } from '../lib/observability/metrics.js';
import { SqsDeadLetterQueue } from '../lib/queue/sqs-dead-letter-queue.js';
import { parseSqsEvent, processWorkBatch, workerSettingsFromEnv } from '../lib/worker/index.js';

let deadLetters: SqsDeadLetterQueue | undefined;

/** One dead-letter queue client per container (BINDING_DLQ_URL). */
function deadLetterQueue(queueUrl: string | undefined, env: NodeJS.ProcessEnv): SqsDeadLetterQueue | undefined {
  if (!queueUrl) return undefined;
  if (deadLetters?.queueUrl !== queueUrl) {
    deadLetters = new SqsDeadLetterQueue({
      queueUrl,
      ...(env.AWS_ENDPOINT_URL_SQS ? { endpoint: env.AWS_ENDPOINT_URL_SQS } : {}),
      ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    });
  }
  return deadLetters;
}

export const handler = middy<unknown, SQSBatchResponse, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler(async (event, context) => {
    const batch = parseSqsEvent(event);
    const settings = workerSettingsFromEnv(process.env);
    const runtime = await getRuntime(process.env, { tpnsConcurrency: settings.tpnsConcurrency });
    return processWorkBatch(batch, {
      tpns: runtime.tpns,
      deadLetters: deadLetterQueue(runtime.settings.dlqUrl, process.env),
      retryBudgetMs: settings.retryBudgetMs,
      deadline: Date.now() + context.getRemainingTimeInMillis() - settings.reserveMs,
    });
  });
