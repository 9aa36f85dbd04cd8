/**
 * The queue worker. SQS: reconciles and verifies the queued keys, answers `batchItemFailures`.
 * Its schedule (every 5 min): the sweep queues tokens whose work stood still (lost follow-ups).
 *
 *   logger context -> metrics (flushed per invocation) -> runtime (cached) ->
 *   SQS: lib/worker (coalesce keys) -> lib/convergence (push, read back, repair) -> lib/tpns
 *   schedule: lib/worker/sweep (the ledger's unsettled index -> push keys on the queue)
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { getRuntime } from '../lib/config/runtime.js';
import { parseSqsEvent } from '../lib/worker/key-record.js';
import { reconcileBatch } from '../lib/worker/reconcile-batch.js';
import { isScheduledEvent, sweepUnsettled } from '../lib/worker/sweep.js';
import { observe } from './handler/observe.js';

export const handler = middy<unknown, SQSBatchResponse | void, Error, Context>()
  .use(observe())
  .handler(async (event, context) => {
    if (isScheduledEvent(event)) {
      const runtime = await getRuntime(process.env, { worker: true });
      // EventBridge ignores a scheduled invocation's answer: the sweep's report goes to the log.
      await sweepUnsettled(runtime, { afterSeconds: runtime.settings.sweepAfterSeconds, correlationId: `sweep:${event.id}` });
      return;
    }
    // Checked before the runtime is built: a mis-wired trigger fails on its own.
    const batch = parseSqsEvent(event);
    const endsAt = Date.now() + context.getRemainingTimeInMillis();
    return reconcileBatch(batch, await getRuntime(process.env, { worker: true }), { endsAt });
  });
