/**
 * The versioned schema of the work buffered in the binding queue (SQS FIFO).
 *
 * Every message carries `v` so a worker can refuse (dead-letter) what it does not understand
 * instead of retrying it forever. Add a new version rather than changing v1 in place: messages
 * queued by the previous deployment may still be in flight.
 */
import * as z from 'zod/mini';

/** TPNS allows at most 20 tokens per op 2/3 call; a message never holds more than one call's work. */
export const MAX_ITEMS_PER_MESSAGE = 20;

const platform = z.enum(['android', 'ios']);
const accountRef = z.object({
  account: z.string(),
  accountType: z.optional(z.int().check(z.nonnegative())),
});
const items = <T extends z.ZodMiniType>(item: T) =>
  z.array(item).check(z.minLength(1), z.maxLength(MAX_ITEMS_PER_MESSAGE));

const envelope = {
  v: z.literal(1),
  platform,
  /** Carried from the trigger (API request id, event id) into the worker's logs. */
  correlationId: z.string(),
  /** When the request was accepted (ISO-8601); for latency metrics and audits. */
  acceptedAt: z.string(),
};

export const workMessageSchema = z.discriminatedUnion('kind', [
  /** op 2: overwrite-bind each token to its account. */
  z.object({ ...envelope, kind: z.literal('bind'), items: items(z.object({ token: z.string(), ...accountRef.shape })) }),
  /** op 3: remove the listed accounts from each token (the confirming step of a logout). */
  z.object({
    ...envelope,
    kind: z.literal('remove-accounts'),
    items: items(z.object({ token: z.string(), accounts: z.array(accountRef).check(z.minLength(1)) })),
  }),
  /** op 4: remove every account from each token. */
  z.object({ ...envelope, kind: z.literal('unbind-tokens'), tokens: items(z.string()) }),
  /** op 5: remove every token from each account. */
  z.object({ ...envelope, kind: z.literal('delete-accounts'), accounts: items(accountRef) }),
]);

export type WorkMessage = z.infer<typeof workMessageSchema>;
export type WorkKind = WorkMessage['kind'];

/** A message ready for SQS FIFO: the group orders it, the deduplication id makes sends idempotent. */
export interface QueuedWork {
  message: WorkMessage;
  /** The token (token-scoped work), the account (account-scoped work) or the chunk id (bulk). */
  groupId: string;
  deduplicationId: string;
}

/** Where accepted work is buffered. The SQS implementation lives in `sqs-work-queue.ts`. */
export interface WorkQueue {
  /** Durably queues all of `work` or throws `QueueUnavailableError` (the caller answers 503). */
  enqueue(work: QueuedWork[]): Promise<void>;
}
