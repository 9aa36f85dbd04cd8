/** SQS records and events as Lambda delivers them from the standard binding queue, for tests that call the worker directly. */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { KeyMessage } from '../../lib/queue/messages.js';

/** The binding queue's ARN in serverless.yml's naming; `eventSourceARN` takes the stack's own. */
const BINDING_QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:tpns-bindings';

let sequence = 0;

/** A record of `body` (a key message is serialised; a string is sent as is, e.g. malformed JSON). */
export function sqsRecord(body: string | KeyMessage, options: { eventSourceARN?: string } = {}): SQSRecord {
  sequence += 1;
  const now = String(Date.now());
  return {
    messageId: `m-${sequence}`,
    receiptHandle: `rh-${sequence}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: '000000000000', ApproximateFirstReceiveTimestamp: now },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.eventSourceARN ?? BINDING_QUEUE_ARN,
    awsRegion: 'us-east-1',
  };
}

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });
