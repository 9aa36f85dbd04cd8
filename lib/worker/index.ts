export { WORKER_CODE, applyWorkBatch } from './apply-batch.js';
export type { ApplyWorkOptions, RecordResult } from './apply-batch.js';
export { RetryLaterError, processWorkBatch } from './process-batch.js';
export { SQS_EVENT_EXPECTED, parseSqsEvent } from './sqs-event.js';
export { readWorkRecord } from './work-record.js';
export type { WorkRecord } from './work-record.js';
export { WORKER_TPNS_CONCURRENCY, workerSettingsFromEnv } from './settings.js';
export type { WorkerSettings } from './settings.js';
