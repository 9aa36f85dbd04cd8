/**
 * The versioned schema of the binding queue (SQS standard). A message names keys to reconcile,
 * never operations: whoever takes it reads the keys' current intent from the ledger and pushes
 * or verifies that, so any redelivery, duplicate or reordering converges to the same state.
 *
 * `v: 2` (v1 was the FIFO history replay). A worker dead-letters a version it does not know.
 */
import * as z from 'zod/mini';
import type { AccountRef } from '../tpns/types.js';
import { accountSchema, accountTypeSchema, platformSchema, tokenSchema } from '../tpns/validate.js';

/** One TPNS call's worth of keys per message (20 tokens per op 2/3 call). */
export const MAX_KEYS_PER_MESSAGE = 20;

export const tokenKeySchema = z.object({ kind: z.literal('token'), platform: platformSchema, token: tokenSchema });
/** The account travels in plaintext only here, until its erasure is verified (docs/threat-model.md). */
export const erasureKeySchema = z.object({ kind: z.literal('erasure'), account: accountSchema, accountType: z.optional(accountTypeSchema) });
export const reconcileKeySchema = z.discriminatedUnion('kind', [tokenKeySchema, erasureKeySchema]);

/** A sign-in that could not be recorded in the ledger when it was accepted (Cognito): recorded by the worker, at its acceptance version. */
export const pendingSignInSchema = z.object({
  platform: platformSchema,
  token: tokenSchema,
  account: accountSchema,
  accountType: z.optional(accountTypeSchema),
  /** The version it was accepted with (`nextVersion`, lib/ledger/records.ts): a newer operation on the token wins. */
  v: z.number(),
});

const envelope = {
  v: z.literal(2),
  /** Carried from the trigger (API request id, event id) into the worker's logs. */
  correlationId: z.string(),
  /** Read-backs that found TPNS different so far (verify) or failed deliveries (push). */
  attempt: z.int().check(z.nonnegative()),
};

export const keyMessageSchema = z.discriminatedUnion('phase', [
  /** Push the keys' current intent (a direct attempt did not get through, or a bulk). */
  z.object({ ...envelope, phase: z.literal('push'), keys: z.array(reconcileKeySchema).check(z.minLength(1), z.maxLength(MAX_KEYS_PER_MESSAGE)) }),
  /** Read TPNS back and repair what differs from the current intent. */
  z.object({ ...envelope, phase: z.literal('verify'), keys: z.array(reconcileKeySchema).check(z.minLength(1), z.maxLength(MAX_KEYS_PER_MESSAGE)) }),
  /** Record sign-ins the ledger could not take at acceptance, then push them. */
  z.object({ ...envelope, phase: z.literal('record'), signIns: z.array(pendingSignInSchema).check(z.minLength(1), z.maxLength(MAX_KEYS_PER_MESSAGE)) }),
]);

export type ReconcileKey = z.infer<typeof reconcileKeySchema>;
export type TokenReconcileKey = z.infer<typeof tokenKeySchema>;
export type ErasureReconcileKey = z.infer<typeof erasureKeySchema>;

/** The reconcile key of a ledger token. */
export const tokenKeyOf = ({ platform, token }: { platform: TokenReconcileKey['platform']; token: string }): TokenReconcileKey => ({ kind: 'token', platform, token });
/** The reconcile key of an account deletion (an unset account type stays unset). */
export const erasureKeyOf = (ref: AccountRef): ErasureReconcileKey => ({ kind: 'erasure', account: ref.account, ...(ref.accountType === undefined ? {} : { accountType: ref.accountType }) });
export type KeyMessage = z.infer<typeof keyMessageSchema>;
export type Phase = KeyMessage['phase'];

/** A message and how long SQS keeps it invisible (0-900 s: SQS's per-message DelaySeconds range). */
export interface OutgoingKeyMessage {
  message: KeyMessage;
  delaySeconds?: number;
}

/** Where keys are queued. The SQS implementation lives in `sqs-key-queue.ts`. */
export interface KeyQueue {
  /** Durably queues every message or throws `QueueUnavailableError` (the caller answers 503). */
  send(messages: readonly OutgoingKeyMessage[]): Promise<void>;
}

export const MAX_DELAY_SECONDS = 900;

/** Splits keys into messages of at most MAX_KEYS_PER_MESSAGE. */
export function keyMessages(
  keys: readonly ReconcileKey[],
  fields: { phase: 'push' | 'verify'; correlationId: string; attempt?: number; delaySeconds?: number },
): OutgoingKeyMessage[] {
  const messages: OutgoingKeyMessage[] = [];
  for (let start = 0; start < keys.length; start += MAX_KEYS_PER_MESSAGE) {
    messages.push({
      message: { v: 2, phase: fields.phase, correlationId: fields.correlationId, attempt: fields.attempt ?? 0, keys: keys.slice(start, start + MAX_KEYS_PER_MESSAGE) },
      ...(fields.delaySeconds ? { delaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(fields.delaySeconds)) } : {}),
    });
  }
  return messages;
}

/** The queue could not durably take the work (unreachable, refused entries after retries). Callers answer 503. Messages name the queue problem, never the queued content. */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
