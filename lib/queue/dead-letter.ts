/**
 * What the worker puts in the dead-letter queue: work that can never succeed (TPNS refused the
 * item for good, or the message is not a valid work message), with the reason. The
 * dead-letter queue also receives, unchanged, messages SQS redrives after `maxReceiveCount`
 * failed receives (plain v1 work messages): `type` tells the two apart.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { workMessageSchema } from './messages.js';
import type { WorkMessage } from './messages.js';

/** Leaves room for the envelope under SQS's 256 KiB message limit. */
const MAX_ORIGINAL_BODY_CHARS = 200_000;

export const deadLetterSchema = z.object({
  v: z.literal(1),
  type: z.literal('dead-letter'),
  /** TPNS code (`1008006`) or the worker's (`INVALID_MESSAGE`), and a readable message. */
  reason: z.object({ code: z.string(), message: z.string() }),
  /** The items that failed, as a valid work message: fix and re-queue it as is. */
  work: z.optional(workMessageSchema),
  /** The original body, when it was not a valid work message (truncated past 200 000 characters). */
  body: z.optional(z.string()),
  source: z.object({ messageId: z.string(), groupId: z.optional(z.string()), correlationId: z.optional(z.string()) }),
  deadLetteredAt: z.string(),
});

export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** A dead letter ready for the FIFO dead-letter queue. */
export interface QueuedDeadLetter {
  letter: DeadLetter;
  /** The source message's group, so a token's dead letters stay in order. */
  groupId: string;
  /** Stable per source message and reason: a redelivered message is dead-lettered once. */
  deduplicationId: string;
}

/** Where the worker sends dead letters. The SQS implementation is in `sqs-dead-letter-queue.ts`. */
export interface DeadLetterQueue {
  /** Durably queues all letters or throws QueueUnavailableError. */
  send(letters: QueuedDeadLetter[]): Promise<void>;
}

/** A group id for a message that came without one (not a FIFO queue). */
const NO_GROUP = 'no-group';
export const INVALID_MESSAGE_CODE = 'INVALID_MESSAGE';

interface Source {
  messageId: string;
  groupId?: string;
}

function queued(letter: DeadLetter, source: Source): QueuedDeadLetter {
  const digest = createHash('sha256')
    .update(JSON.stringify([source.messageId, letter.reason.code, letter.work ?? letter.body]))
    .digest('hex');
  return { letter, groupId: source.groupId ?? NO_GROUP, deduplicationId: digest };
}

/** Items TPNS refused for good; `work` holds only those items. */
export function failedItemsLetter(work: WorkMessage, reason: DeadLetter['reason'], source: Source): QueuedDeadLetter {
  return queued(
    {
      v: 1,
      type: 'dead-letter',
      reason,
      work,
      source: { messageId: source.messageId, ...(source.groupId ? { groupId: source.groupId } : {}), correlationId: work.correlationId },
      deadLetteredAt: new Date().toISOString(),
    },
    source,
  );
}

/** A body that is not a valid work message; `message` names what is wrong. */
export function invalidMessageLetter(body: string, message: string, source: Source): QueuedDeadLetter {
  return queued(
    {
      v: 1,
      type: 'dead-letter',
      reason: { code: INVALID_MESSAGE_CODE, message },
      body: body.slice(0, MAX_ORIGINAL_BODY_CHARS),
      source: { messageId: source.messageId, ...(source.groupId ? { groupId: source.groupId } : {}) },
      deadLetteredAt: new Date().toISOString(),
    },
    source,
  );
}
