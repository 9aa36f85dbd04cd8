/**
 * SQS clients for the local emulator: explicit endpoint, a fixed region and dummy credentials.
 *
 * Why hand-written: only the wiring of the AWS SDK client to the local SQS (docs/architecture.md, "Why local/ is hand-written").
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

export const LOCAL_SQS_REGION = 'us-east-1';
/** fauxqs does not check signatures, but the SDK will not sign without some credentials. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: LOCAL_SQS_REGION, credentials: LOCAL_CREDENTIALS });
}

export interface QueueDepth {
  /** Visible, waiting for a poller. */
  queued: number;
  /** Received and not yet deleted (being processed, or failed and waiting for the visibility timeout). */
  inFlight: number;
  delayed: number;
}

export async function queueDepth(client: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return {
    queued: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}
