/**
 * SQS trigger: reconciles and verifies the queued keys, answers `batchItemFailures`.
 *
 *   logger context -> metrics (flushed per invocation) -> SQS event check -> runtime (cached)
 *   -> lib/worker (coalesce keys) -> lib/convergence (push, read back, repair) -> lib/tpns
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { getRuntime } from '../lib/config/runtime.js';
import { parseSqsEvent } from '../lib/worker/key-record.js';
import { reconcileBatch } from '../lib/worker/reconcile-batch.js';
import { observe } from './handler/observe.js';

export const handler = middy<unknown, SQSBatchResponse, Error, Context>()
  .use(observe())
  .handler(async (event) => {
    const batch = parseSqsEvent(event);
    const runtime = await getRuntime(process.env, { worker: true });
    return reconcileBatch(batch, runtime);
  });
