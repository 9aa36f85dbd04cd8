/**
 * One SQS record read as work: the v1 message, or why it is not one. Beyond the message schema,
 * every item must pass TPNS's own rules (lib/tpns/validate.ts), so the worker never sends what
 * TPNS would reject and a bad item is dead-lettered instead of retried forever.
 */
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { deadLetterSchema } from '../queue/dead-letter.js';
import { workMessageSchema } from '../queue/messages.js';
import type { WorkKind, WorkMessage } from '../queue/messages.js';
import { accountRefSchema, bindingSchema, tokenAccountsSchema, tokenSchema } from '../tpns/validate.js';

export interface WorkRecord {
  messageId: string;
  /** The FIFO group; undefined only on a standard queue. */
  groupId: string | undefined;
  body: string;
  /** Exactly one of `message` and `invalid` is set. */
  message?: WorkMessage;
  /** What makes the body unusable (`items.3.token: must be printable ASCII without spaces`). */
  invalid?: string;
}

/** Each kind's item list with TPNS's item rules. */
const ITEM_RULES: Record<WorkKind, z.ZodMiniType> = {
  bind: z.looseObject({ items: z.array(bindingSchema) }),
  'remove-accounts': z.looseObject({ items: z.array(tokenAccountsSchema) }),
  'unbind-tokens': z.looseObject({ tokens: z.array(tokenSchema) }),
  'delete-accounts': z.looseObject({ accounts: z.array(accountRefSchema) }),
};

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.map((issue) => `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`).join('; ');
}

function parseBody(body: string): { message: WorkMessage } | { invalid: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { invalid: 'body is not JSON' };
  }
  // A dead letter redriven to the queue (after its cause was fixed) is its work, applied again.
  const letter = deadLetterSchema.safeParse(json);
  if (letter.success) {
    if (!letter.data.work) return { invalid: `a redriven dead letter without work (${letter.data.reason.code}): nothing to apply` };
    json = letter.data.work;
  }
  const parsed = workMessageSchema.safeParse(json);
  if (!parsed.success) return { invalid: `not a v1 work message: ${describeIssues(parsed.error.issues)}` };
  const applicable = ITEM_RULES[parsed.data.kind].safeParse(parsed.data);
  if (!applicable.success) return { invalid: `TPNS would reject: ${describeIssues(applicable.error.issues)}` };
  return { message: parsed.data };
}

export function readWorkRecord(record: SQSRecord): WorkRecord {
  return {
    messageId: record.messageId,
    groupId: record.attributes.MessageGroupId,
    body: record.body,
    ...parseBody(record.body),
  };
}
