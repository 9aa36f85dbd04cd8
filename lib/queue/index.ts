export { MAX_KEYS_PER_MESSAGE, MAX_DELAY_SECONDS, keyMessageSchema, keyMessages, reconcileKeySchema } from './messages.js';
export type { ErasureReconcileKey, KeyMessage, KeyQueue, OutgoingKeyMessage, PendingSignIn, Phase, ReconcileKey, TokenReconcileKey } from './messages.js';
export { QueueUnavailableError } from './errors.js';
export { MAX_ENTRIES_PER_SEND, SqsKeyQueue, SqsSender } from './sqs-key-queue.js';
export type { RawMessage, SqsQueueOptions } from './sqs-key-queue.js';
export { INVALID_MESSAGE_CODE, NOT_CONVERGING_CODE, SqsDeadLetterQueue, deadLetterSchema, invalidMessageLetter, keyLetter } from './dead-letter.js';
export type { DeadLetter, DeadLetterQueue } from './dead-letter.js';
