/**
 * The worker's input: the SQS event checked by shape (anything else is an error naming what was
 * expected), and each record read as a key message, or why it is not one. The schema carries TPNS's own
 * item rules (tokens, accounts), so the worker never sends what TPNS would reject and a bad
 * message is dead-lettered instead of retried forever.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { deadLetterSchema } from '../queue/dead-letter.js';
import { keyMessageSchema } from '../queue/messages.js';
import type { KeyMessage } from '../queue/messages.js';
import { UnrecognizedEventError } from '../triggers/issues.js';

export type KeyRecord = { messageId: string; body: string } & ({ message: KeyMessage } | { invalid: string });

const describeIssues = (issues: readonly { path: PropertyKey[]; message: string }[]): string =>
  issues.map((issue) => `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`).join('; ');

function parseBody(body: string): { message: KeyMessage } | { invalid: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { invalid: 'body is not JSON' };
  }
  // A dead letter redriven to the queue (after its cause was fixed): its key is read back and repaired.
  const letter = deadLetterSchema.safeParse(json);
  if (letter.success) {
    if (!letter.data.key) return { invalid: `a redriven dead letter without a key (${letter.data.reason.code}): nothing to reconcile` };
    return { message: { v: 2, phase: 'verify', correlationId: letter.data.source.correlationId ?? letter.data.source.messageId, attempt: 0, keys: [letter.data.key] } };
  }
  const parsed = keyMessageSchema.safeParse(json);
  return parsed.success ? { message: parsed.data } : { invalid: `not a v2 key message: ${describeIssues(parsed.error.issues)}` };
}

export function readKeyRecord(record: SQSRecord): KeyRecord {
  return { messageId: record.messageId, body: record.body, ...parseBody(record.body) };
}

const sqsRecordSchema = z.looseObject({
  messageId: z.string().check(z.minLength(1)),
  receiptHandle: z.string(),
  body: z.string(),
  attributes: z.looseObject({ ApproximateReceiveCount: z.string(), MessageGroupId: z.optional(z.string()) }),
  eventSource: z.literal('aws:sqs'),
});

const sqsEventSchema = z.object({ Records: z.array(sqsRecordSchema).check(z.minLength(1)) });

export const SQS_EVENT_EXPECTED =
  'an SQS event ({ Records: [{ messageId, receiptHandle, body, attributes: { ApproximateReceiveCount, MessageGroupId }, eventSource: "aws:sqs" }] })';

export function parseSqsEvent(event: unknown): SQSEvent {
  const parsed = sqsEventSchema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? ` (${issue.path.join('.') || 'event'}: ${issue.message})` : '';
    throw new UnrecognizedEventError([`${SQS_EVENT_EXPECTED}${where}`]);
  }
  return event as SQSEvent;
}
