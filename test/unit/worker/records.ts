/** SQS records as Lambda delivers them from the standard binding queue, for the worker's unit tests. */
import type { SQSRecord } from 'aws-lambda';
import type { KeyMessage } from '../../../lib/queue/messages.js';

let sequence = 0;

export function sqsRecord(body: string, receiveCount = 1): SQSRecord {
  sequence += 1;
  return {
    messageId: `m-${sequence}`,
    receiptHandle: `rh-${sequence}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '1700000000000',
      SenderId: '000000000000',
      ApproximateFirstReceiveTimestamp: '1700000000000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:tpns-bindings',
    awsRegion: 'us-east-1',
  };
}

export const recordOf = (message: KeyMessage): SQSRecord => sqsRecord(JSON.stringify(message));
