/**
 * The queue path end to end, on this machine: two sign-ins are recorded in the ledger while TPNS
 * is failing (answered 202, their tokens queued as keys to push), TPNS comes back, the worker
 * (the deployed handler, fed like Lambda's SQS event source) pushes the ledger's intent, reads
 * TPNS back a second later and marks the device verified; the one token TPNS refuses for good
 * ends in the dead-letter queue with its reason. Run `npx tsx docs/examples/queue-example.ts`
 * (the worker's JSON logs and metrics are printed too).
 */
import { pathToFileURL } from 'node:url';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { handler } from '../../functions/bind-worker.js';
import { listDevices } from '../../lib/commands/list-devices.js';
import { signIn } from '../../lib/commands/sign-in.js';
import { loadConfig } from '../../lib/config/config.js';
import { createRuntime } from '../../lib/config/runtime.js';
import { startLocalDynamo } from '../../local/dynamodb/local-dynamo.js';
import { localSqsClient } from '../../local/sqs/client.js';
import { startEventSource } from '../../local/sqs/event-source.js';
import { startLocalSqs } from '../../local/sqs/fauxqs.js';
import { startTpnsEmulator } from '../../local/tpns-emulator/index.js';

export async function queueExample() {
  const emulator = await startTpnsEmulator({ invalidTokens: ['bad-token'] });
  const sqs = await startLocalSqs(); // the queue and dead-letter queue as serverless.yml declares them
  const dynamo = await startLocalDynamo(); // the ledger's table, likewise
  // What the deployed functions read from their environment (TPNS, queues, table), and a 1 s read-back delay.
  Object.assign(process.env, emulator.env, sqs.env, dynamo.env, { VERIFY_DELAY_SECONDS: '1' });
  const runtime = createRuntime(await loadConfig(process.env));

  // TPNS answers HTTP 500 for now: each sign-in is recorded, tried for ~2 s, then queued (202).
  emulator.injectFault({ kind: 'http500', path: 'batchoperate' });
  const answers = await Promise.all([
    signIn(runtime, { account: 'alice', token: 'good-token', platform: 'android' }, { correlationId: 'req-42' }),
    signIn(runtime, { account: 'bob', token: 'bad-token', platform: 'android' }, { correlationId: 'req-43' }),
  ]);
  console.log('answers:', answers);
  emulator.clearFaults();

  // The worker pushes both keys, reads good-token back after VERIFY_DELAY_SECONDS, dead-letters bad-token.
  const worker = startEventSource({ endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, handler, waitTimeSeconds: 1 });
  await worker.drained();
  const stats = worker.stats();
  const boundTo = emulator.accountsOf('android', 'good-token');
  const { devices } = await listDevices(runtime, { account: 'alice' });
  console.log('worker:', stats, 'good-token is bound to:', boundTo, 'alice\'s devices:', devices);

  const client = localSqsClient(sqs.endpoint);
  const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, MessageAttributeNames: ['All'] }));
  const deadLetters: unknown[] = Messages.map((message) => JSON.parse(message.Body ?? 'null'));
  for (const letter of deadLetters) console.log('dead letter:', JSON.stringify(letter, null, 2));

  client.destroy();
  await worker.stop();
  await Promise.all([sqs.close(), dynamo.close(), emulator.close()]);
  return { answers, stats, boundTo, devices, deadLetters };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await queueExample();
