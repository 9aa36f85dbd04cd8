/** `tpns-accounts redrive` against fauxqs: the real launcher in a child process. */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsDeadLetterQueue, failedItemsLetter, planWork } from '../../lib/queue/index.js';
import { LOCAL_CREDENTIALS, localSqsClient } from '../../local/sqs/client.js';
import { startLocalSqs } from '../../local/sqs/fauxqs.js';
import type { LocalSqs } from '../../local/sqs/fauxqs.js';
import { runCli } from './harness.js';

let sqs: LocalSqs;
let client: SQSClient;
beforeAll(async () => {
  sqs = await startLocalSqs();
  client = localSqsClient(sqs.endpoint);
});
afterAll(async () => {
  client.destroy();
  await sqs.close();
});

const env = () => sqs.env;

describe('tpns-accounts redrive', () => {
  it('moves redriven work back and keeps refused items, then --include-refused moves them too', async () => {
    // As SQS leaves them: a work message redriven after maxReceiveCount, and the worker's dead letter.
    const [work] = planWork({ kind: 'bind', platform: 'ios', items: [{ token: 'cli-redrive-1', account: 'alice-01' }] }, { correlationId: 'cli-1' });
    await client.send(new SendMessageCommand({ QueueUrl: sqs.dlqUrl, MessageBody: JSON.stringify(work!.message), MessageGroupId: work!.groupId, MessageDeduplicationId: 'cli-1' }));
    const refused = planWork({ kind: 'bind', platform: 'android', items: [{ token: 'cli-redrive-2', account: 'bob-02' }] }, { correlationId: 'cli-2' })[0]!;
    const dlq = new SqsDeadLetterQueue({ queueUrl: sqs.dlqUrl, endpoint: sqs.endpoint, credentials: LOCAL_CREDENTIALS });
    await dlq.send([failedItemsLetter(refused.message, { code: '1008006', message: 'invalid token' }, { messageId: 'm-2', groupId: refused.groupId })]);

    const first = await runCli(['redrive'], env());
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe('moved 1 message(s) back to the binding queue; kept in the dead-letter queue: 1008006 x1\n');
    expect(await sqs.depth()).toMatchObject({ queued: 1, deadLettered: 1 });

    const forced = await runCli(['redrive', '--include-refused', '--json'], env());
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ moved: 1, kept: {} });
    expect(await sqs.depth()).toMatchObject({ queued: 2, deadLettered: 0 });
  });

  it('is a usage error (exit 2) without the queue URLs', async () => {
    const run = await runCli(['redrive'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('BINDING_DLQ_URL');
  });
});
