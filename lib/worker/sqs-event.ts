/** The SQS event the worker accepts, checked by shape: anything else is an error naming what was expected. */
import type { SQSEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { UnrecognizedEventError } from '../triggers/errors.js';

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
