/**
 * What the worker puts in the dead-letter queue, with the reason: a key that will not converge
 * (with the ledger's intent and what TPNS holds), a key TPNS refuses for good (invalid token),
 * or a body that is not a message this worker understands. The queue also receives, unchanged,
 * messages SQS redrives after `maxReceiveCount` failed receives: `type` tells the two apart.
 */
import * as z from 'zod/mini';
import { reconcileKeySchema } from './messages.js';
import type { ReconcileKey } from './messages.js';
import { SqsSender } from './sqs-key-queue.js';
import type { SqsQueueOptions } from './sqs-key-queue.js';

/** Leaves room for the envelope under SQS's 256 KiB message limit. */
const MAX_ORIGINAL_BODY_CHARS = 200_000;
export const INVALID_MESSAGE_CODE = 'INVALID_MESSAGE';
/** Read-backs kept finding TPNS different from the ledger. */
export const NOT_CONVERGING_CODE = 'NOT_CONVERGING';

export const deadLetterSchema = z.object({
  v: z.literal(2),
  type: z.literal('dead-letter'),
  /** TPNS code (`1008006`) or the worker's (`NOT_CONVERGING`, `INVALID_MESSAGE`), and a readable message. */
  reason: z.object({ code: z.string(), message: z.string() }),
  /** The key that failed: redriving the letter reconciles it again. */
  key: z.optional(reconcileKeySchema),
  /** What the ledger wants for the key, and what TPNS held at the last read-back. */
  desired: z.optional(z.unknown()),
  actual: z.optional(z.unknown()),
  /** The original body, when it was not a valid message (truncated past 200 000 characters). */
  body: z.optional(z.string()),
  source: z.object({ messageId: z.string(), correlationId: z.optional(z.string()) }),
  deadLetteredAt: z.string(),
});

export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** Where the worker sends dead letters. */
export interface DeadLetterQueue {
  /** Durably queues all letters or throws QueueUnavailableError. */
  send(letters: readonly DeadLetter[]): Promise<void>;
}

interface Source {
  messageId: string;
  correlationId?: string;
}

export function keyLetter(key: ReconcileKey, reason: DeadLetter['reason'], source: Source, states: { desired?: unknown; actual?: unknown } = {}): DeadLetter {
  return { v: 2, type: 'dead-letter', reason, key, ...states, source, deadLetteredAt: new Date().toISOString() };
}

export function invalidMessageLetter(body: string, message: string, source: Source): DeadLetter {
  return {
    v: 2,
    type: 'dead-letter',
    reason: { code: INVALID_MESSAGE_CODE, message },
    body: body.slice(0, MAX_ORIGINAL_BODY_CHARS),
    source,
    deadLetteredAt: new Date().toISOString(),
  };
}

export class SqsDeadLetterQueue implements DeadLetterQueue {
  readonly #sender: SqsSender;

  constructor(options: SqsQueueOptions) {
    this.#sender = new SqsSender(options);
  }

  send(letters: readonly DeadLetter[]): Promise<void> {
    return this.#sender.send(letters.map((letter) => ({ body: JSON.stringify(letter), attributes: { reason: letter.reason.code } })));
  }
}
