export { reconcileBatch } from './reconcile-batch.js';
export { readKeyRecord } from './key-record.js';
export type { KeyRecord } from './key-record.js';
export { SQS_EVENT_EXPECTED, parseSqsEvent } from './sqs-event.js';
