/**
 * The worker's partial-batch answer. The whole batch is applied first (coalesced, see
 * apply-batch.ts); then Powertools' FIFO batch processor walks the records and does the
 * `batchItemFailures` bookkeeping: each record reports its precomputed result, a retried one
 * throws, and `skipGroupOnError` fails the rest of its group.
 */
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger, redactToken } from '../observability/logger.js';
import { applyWorkBatch } from './apply-batch.js';
import type { ApplyWorkOptions, RecordResult } from './apply-batch.js';
import { recordRetried } from './metrics.js';
import { readWorkRecord } from './work-record.js';

/** A record the worker hands back to SQS to be delivered again. */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';

  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Group ids of token work name the token: log a hash of it instead. */
function loggableGroup(groupId: string | undefined): string | undefined {
  return groupId?.startsWith('t:') ? `t:${redactToken(groupId.slice(2))}` : groupId;
}

export async function processWorkBatch(event: SQSEvent, options: ApplyWorkOptions): Promise<SQSBatchResponse> {
  const records = new Map(event.Records.map((record) => [record.messageId, readWorkRecord(record)]));
  const results = await applyWorkBatch([...records.values()], options);

  const report = async (record: SQSRecord): Promise<RecordResult> => {
    const work = records.get(record.messageId);
    const result = results.get(record.messageId);
    if (!work || !result) throw new Error(`no result for message ${record.messageId}`);
    logger.setCorrelationId(work.message?.correlationId);
    const fields = {
      messageId: record.messageId,
      group: loggableGroup(work.groupId),
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
      ...(work.message ? { kind: work.message.kind, platform: work.message.platform } : {}),
      status: result.status,
      ...(result.status === 'applied'
        ? { applied: result.applied, deadLettered: result.deadLettered }
        : { code: result.code, reason: result.message }),
    };
    if (result.status === 'retry') {
      logger.warn('Work message will be retried', fields);
      throw new RetryLaterError(result.code, result.message);
    }
    if (result.status === 'dead-lettered') logger.error('Invalid work message dead-lettered', fields);
    else logger.info('Work message applied', fields);
    return result;
  };

  try {
    // A processor per batch: it holds the batch's state, and a local host runs batches concurrently.
    const processor = new SqsFifoPartialProcessorAsync();
    const response = await processPartialResponse(event, report, processor, { skipGroupOnError: true, throwOnFullBatchFailure: false });
    recordRetried(response.batchItemFailures.length);
    return response;
  } finally {
    logger.removeKeys(['correlation_id']);
  }
}
