export { MAX_ITEMS_PER_MESSAGE, workMessageSchema } from './messages.js';
export type { QueuedWork, WorkKind, WorkMessage, WorkQueue } from './messages.js';
export { accountGroupId, planWork, tokenGroupId } from './plan.js';
export type { PlanMeta, WorkInput } from './plan.js';
export { QueueUnavailableError } from './errors.js';
export { SqsWorkQueue } from './sqs-work-queue.js';
export type { SqsWorkQueueOptions } from './sqs-work-queue.js';
export type { EntryRetryOptions } from './send-messages.js';
