/**
 * The queue path end to end, on this machine: plan work, queue it in fauxqs, let the worker
 * (the deployed handler, fed like Lambda's SQS event source) apply it at the TPNS emulator, and
 * read the dead letter of the one token TPNS refuses.
 *
 *     npx tsx docs/examples/queue-example.ts
 */
Object.assign(process.env, { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' });

const { planWork, SqsWorkQueue } = await import('../../lib/queue/index.js');
const { startLocalSqs } = await import('../../local/sqs/fauxqs.js');
const { startEventSource } = await import('../../local/sqs/event-source.js');
const { startTpnsEmulator } = await import('../../local/tpns-emulator/index.js');
const { localSqsClient } = await import('../../local/sqs/client.js');
const { ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');

const emulator = await startTpnsEmulator({ invalidTokens: ['bad-token'] });
const sqs = await startLocalSqs();
Object.assign(process.env, emulator.env, {
  BINDING_QUEUE_URL: sqs.queueUrl,
  BINDING_DLQ_URL: sqs.dlqUrl,
  AWS_ENDPOINT_URL_SQS: sqs.endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
});
const { handler } = await import('../../functions/bind-worker.js');

// Two bindings in one chunk (group c:req-42:0); TPNS will refuse bad-token for good.
const work = planWork(
  { kind: 'bind', platform: 'android', items: [{ token: 'good-token', account: 'alice' }, { token: 'bad-token', account: 'bob' }] },
  { correlationId: 'req-42' },
);
await new SqsWorkQueue({ queueUrl: sqs.queueUrl }).enqueue(work);

const worker = startEventSource({ endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, handler, waitTimeSeconds: 1 });
await worker.drained();
console.log('worker:', worker.stats());
console.log('good-token is bound to:', emulator.accountsOf('android', 'good-token'));

const client = localSqsClient(sqs.endpoint);
const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, MessageAttributeNames: ['All'] }));
for (const message of Messages) {
  console.log('dead letter, reason attribute', message.MessageAttributes?.reason?.StringValue, JSON.stringify(JSON.parse(message.Body ?? ''), null, 2));
}

client.destroy();
await worker.stop();
await sqs.close();
await emulator.close();
