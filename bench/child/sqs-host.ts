/**
 * fauxqs in a process of its own, as SQS is a remote service in production: the login handler's
 * latency then holds its own SQS client work, not the SQS server's. Creates the queues
 * serverless.yml declares (binding queue attributes overridden by the JSON in argv[2]) and a
 * reference queue with the binding queue's attributes, for the warm run's plain SendMessage.
 * Sends the queues' URLs and ARNs when listening.
 */
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { localSqsClient } from '../../local/sqs/client.js';
import { startLocalSqs } from '../../local/sqs/fauxqs.js';
import { serveParent } from './service-host.js';

const sqs = await startLocalSqs({ queueAttributes: JSON.parse(process.argv[2] ?? '{}') as Record<string, string> });
const client = localSqsClient(sqs.endpoint);
const { QueueUrl } = await client.send(
  new CreateQueueCommand({ QueueName: `bench-reference${sqs.config.bindingQueue.name.endsWith('.fifo') ? '.fifo' : ''}`, Attributes: sqs.config.bindingQueue.attributes }),
);
if (!QueueUrl) throw new Error('fauxqs did not create the reference queue');
client.destroy();
const { endpoint, queueUrl, queueArn, dlqUrl, dlqArn } = sqs;
// fauxqs's own URL host may not resolve; the queue is found by its path (as in local/sqs/fauxqs.ts).
const referenceQueueUrl = new URL(new URL(QueueUrl).pathname, endpoint).href;
serveParent({ endpoint, queueUrl, queueArn, dlqUrl, dlqArn, referenceQueueUrl }, () => sqs.close());
