/**
 * The queue path end to end, on this machine: plan work, queue it in fauxqs, let the worker
 * (the deployed handler, fed like Lambda's SQS event source) apply it at the TPNS emulator, and
 * read the dead letter of the one token TPNS refuses. Run `npx tsx docs/examples/queue-example.ts`
 * (the worker's JSON logs and metrics are printed too).
 */
import { pathToFileURL } from 'node:url';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { handler } from '../../functions/bind-worker.js';
import { planWork, SqsWorkQueue } from '../../lib/queue/index.js';
import { localSqsClient } from '../../local/sqs/client.js';
import { startEventSource } from '../../local/sqs/event-source.js';
import { startLocalSqs } from '../../local/sqs/fauxqs.js';
import { startTpnsEmulator } from '../../local/tpns-emulator/index.js';

export async function queueExample() {
  const emulator = await startTpnsEmulator({ invalidTokens: ['bad-token'] });
  const sqs = await startLocalSqs(); // the queue and dead-letter queue as serverless.yml declares them
  // What the deployed worker reads from its environment.
  Object.assign(process.env, emulator.env, {
    BINDING_QUEUE_URL: sqs.queueUrl,
    BINDING_DLQ_URL: sqs.dlqUrl,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });

  // Two bindings in one chunk (group c:req-42:0); TPNS will refuse bad-token for good.
  const work = planWork(
    { kind: 'bind', platform: 'android', items: [{ token: 'good-token', account: 'alice' }, { token: 'bad-token', account: 'bob' }] },
    { correlationId: 'req-42' },
  );
  await new SqsWorkQueue({ queueUrl: sqs.queueUrl, endpoint: sqs.endpoint }).enqueue(work);

  const worker = startEventSource({ endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, handler, waitTimeSeconds: 1 });
  await worker.drained();
  const stats = worker.stats();
  const boundTo = emulator.accountsOf('android', 'good-token');
  console.log('worker:', stats, 'good-token is bound to:', boundTo);

  const client = localSqsClient(sqs.endpoint);
  const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, MessageAttributeNames: ['All'] }));
  const deadLetters: unknown[] = Messages.map((message) => JSON.parse(message.Body ?? 'null'));
  for (const letter of deadLetters) console.log('dead letter:', JSON.stringify(letter, null, 2));

  client.destroy();
  await worker.stop();
  await sqs.close();
  await emulator.close();
  return { stats, boundTo, deadLetters };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await queueExample();
