/**
 * An SQS-compatible server in this process (fauxqs), on 127.0.0.1 only, with the binding queue
 * and its dead-letter queue created as serverless.yml declares them: standard queues (per-message
 * DelaySeconds, at-least-once, no ordering), visibility timeout, retention, and the RedrivePolicy
 * (fauxqs itself moves a message to the dead-letter queue once it has been received more than
 * `maxReceiveCount` times, as SQS does).
 *
 * Why hand-written: only the wiring; fauxqs is the SQS server (docs/architecture.md, "Why local/ is hand-written").
 */
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import { readServerlessConfig } from '../serverless-config.js';
import type { QueueDefinition, ServerlessConfig } from '../serverless-config.js';
import { LOCAL_CREDENTIALS, LOCAL_SQS_REGION, localSqsClient, queueDepth } from './client.js';
import type { QueueDepth } from './client.js';

export interface LocalSqsOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default: read from the repository's serverless.yml. */
  config?: ServerlessConfig;
  /**
   * Attributes overriding serverless.yml's for the binding queue, e.g. `{ VisibilityTimeout: '5' }`
   * so a failed message comes back in seconds rather than the deployed 6 minutes.
   */
  queueAttributes?: Record<string, string>;
}

/** A message as it sits in a queue, read without receiving it. */
export interface InspectedMessage {
  body: string;
  /** Epoch ms it was sent. */
  sentAt: number;
  /** The DelaySeconds it was sent with (0: visible at once). */
  delaySeconds: number;
  /** Received by a consumer and not yet deleted or back. */
  inFlight: boolean;
}

interface FauxqsMessage {
  body: string;
  sentTimestamp: number;
  delayUntil?: number;
}

export interface LocalSqs {
  /** `http://127.0.0.1:<port>`: give it to SDK clients as `endpoint` (or AWS_ENDPOINT_URL_SQS). */
  endpoint: string;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
  config: ServerlessConfig;
  /** The variables that point a process (a handler, the CLI) at these queues, with dummy AWS credentials. */
  readonly env: Readonly<Record<string, string>>;
  /** Binding queue depth, plus how many messages sit in the dead-letter queue. */
  depth(): Promise<QueueDepth & { deadLettered: number }>;
  /** Every message in a queue, visible, delayed or in flight, left where it is (receiving would hide it from the worker). */
  messages(queue: 'binding' | 'dead-letters'): Promise<InspectedMessage[]>;
  close(): Promise<void>;
}

/** fauxqs' own inspection endpoint (`/_fauxqs/queues/<name>`): SQS has no way to look without receiving. */
async function inspect(endpoint: string, queueUrl: string): Promise<InspectedMessage[]> {
  const name = queueUrl.split('/').pop() ?? '';
  const answer = await fetch(`${endpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
  if (!answer.ok) throw new Error(`fauxqs inspection answered ${answer.status}`);
  const { messages } = (await answer.json()) as { messages: { ready: FauxqsMessage[]; delayed: FauxqsMessage[]; inflight: { message: FauxqsMessage }[] } };
  const inspected = (message: FauxqsMessage, inFlight: boolean): InspectedMessage => ({
    body: message.body,
    sentAt: message.sentTimestamp,
    delaySeconds: message.delayUntil === undefined ? 0 : Math.round((message.delayUntil - message.sentTimestamp) / 1000),
    inFlight,
  });
  return [...messages.ready.map((m) => inspected(m, false)), ...messages.delayed.map((m) => inspected(m, false)), ...messages.inflight.map(({ message }) => inspected(message, true))];
}

export class LocalSqsPortInUseError extends Error {
  override name = 'LocalSqsPortInUseError';
}

const LOOPBACK = '127.0.0.1';

/**
 * fauxqs names queues `http://sqs.<region>.localhost:<port>/...`, a host that does not resolve
 * everywhere; it finds a queue by the URL's path, so the URL is rebased on the endpoint: an SDK
 * client then reaches the queue with or without an explicit `endpoint`, as with real SQS.
 */
async function createQueue(client: SQSClient, endpoint: string, queue: QueueDefinition, extra: Record<string, string>) {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: queue.name, Attributes: { ...queue.attributes, ...extra } }));
  if (!QueueUrl) throw new Error(`fauxqs did not create queue ${queue.name}`);
  const url = new URL(new URL(QueueUrl).pathname, endpoint).href;
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  if (!Attributes?.QueueArn) throw new Error(`fauxqs did not report the ARN of queue ${queue.name}`);
  return { url, arn: Attributes.QueueArn };
}

export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  const config = options.config ?? readServerlessConfig();
  const port = options.port ?? 0;
  // buildApp rather than startFauxqs: startFauxqs listens on 0.0.0.0; the local stack stays on loopback.
  const app = buildApp({ logger: false });
  let address: string;
  try {
    address = await app.listen({ port, host: LOOPBACK });
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LocalSqsPortInUseError(`SQS emulator: port ${port} on ${LOOPBACK} is already in use`, { cause: error });
    }
    throw error;
  }
  const endpoint = `http://${LOOPBACK}:${new URL(address).port}`;
  const client = localSqsClient(endpoint);
  try {
    const dlq = await createQueue(client, endpoint, config.deadLetterQueue, {});
    const redrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: config.maxReceiveCount });
    const queue = await createQueue(client, endpoint, config.bindingQueue, { RedrivePolicy: redrivePolicy, ...options.queueAttributes });
    return {
      endpoint,
      queueUrl: queue.url,
      queueArn: queue.arn,
      dlqUrl: dlq.url,
      dlqArn: dlq.arn,
      config,
      env: {
        BINDING_QUEUE_URL: queue.url,
        BINDING_DLQ_URL: dlq.url,
        AWS_ENDPOINT_URL_SQS: endpoint,
        AWS_REGION: LOCAL_SQS_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      },
      async depth() {
        const [main, dead] = await Promise.all([queueDepth(client, queue.url), queueDepth(client, dlq.url)]);
        return { ...main, deadLettered: dead.queued + dead.inFlight + dead.delayed };
      },
      messages: (which) => inspect(endpoint, which === 'binding' ? queue.url : dlq.url),
      async close() {
        client.destroy();
        await app.close();
      },
    };
  } catch (error) {
    client.destroy();
    await app.close();
    throw error;
  }
}
