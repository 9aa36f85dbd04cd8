/**
 * Redriving the dead-letter queue after a fix (lib/queue/redrive.ts) against fauxqs, with a DLQ
 * filled the real way: work SQS redrove after maxReceiveCount failures (wrong TPNS credentials),
 * the worker's dead letters for an invalid token, and an unreadable message.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetRuntimeForTests } from '../../lib/config/runtime.js';
import { SqsWorkQueue, planWork } from '../../lib/queue/index.js';
import { redriveDeadLetters } from '../../lib/queue/redrive.js';
import { startReliabilityStack } from './support/stack.js';
import type { ReliabilityStack } from './support/stack.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const INVALID = 'redrive-invalid-token';

let stack: ReliabilityStack;
beforeAll(async () => {
  stack = await startReliabilityStack({ invalidTokens: [INVALID], env: { WORKER_RETRY_BUDGET_MS: '200' } });
});
afterAll(() => stack.close());

const options = () => ({ dlqUrl: stack.sqs.dlqUrl, queueUrl: stack.sqs.queueUrl, endpoint: stack.sqs.endpoint, credentials });

async function runWorkerUntilDrained(): Promise<void> {
  const worker = stack.startWorker({ concurrency: 1, visibilityTimeoutSeconds: 1 });
  await worker.drained();
  await worker.stop();
}

describe('redriveDeadLetters', () => {
  it('moves redriven work back in group order, keeps refused items and invalid messages unless told', { timeout: 60_000 }, async () => {
    const { tpns, sqs, client } = stack;
    const queue = new SqsWorkQueue({ queueUrl: sqs.queueUrl, endpoint: sqs.endpoint, credentials });
    const meta = (id: string) => ({ correlationId: id });
    await queue.enqueue([
      ...planWork({ kind: 'bind', platform: 'ios', items: [{ token: 'redrive-shared', account: 'alice-01' }] }, meta('r1')),
      ...planWork({ kind: 'bind', platform: 'ios', items: [{ token: 'redrive-shared', account: 'bob-02' }] }, meta('r2')),
      ...planWork({ kind: 'bind', platform: 'android', items: [{ token: 'redrive-other', account: 'carol-03' }] }, meta('r3')),
    ]);
    // The deployment's iOS key is wrong: TPNS refuses every iOS call until SQS gives up (maxReceiveCount).
    process.env.TPNS_IOS_SECRET_KEY = 'a-wrong-key';
    resetRuntimeForTests();
    await runWorkerUntilDrained();
    expect(tpns.accountsOf('ios', 'redrive-shared')).toEqual([]);
    expect(tpns.accountsOf('android', 'redrive-other')).toEqual([{ account: 'carol-03', accountType: 0 }]);
    expect((await sqs.depth()).deadLettered).toBe(2);

    // Work that can never succeed: an invalid token (dead-lettered by the worker) and garbage.
    await queue.enqueue(planWork({ kind: 'bind', platform: 'android', items: [{ token: INVALID, account: 'dave-04' }] }, meta('r4')));
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: '{"not":"work"}', MessageGroupId: 'garbage', MessageDeduplicationId: 'garbage-1' }));
    await runWorkerUntilDrained();
    expect((await sqs.depth()).deadLettered).toBe(4);

    // The fix: the right key. Redrive moves the two iOS messages back, in their group's order.
    process.env.TPNS_IOS_SECRET_KEY = tpns.apps.ios.secretKey;
    resetRuntimeForTests();
    expect(await redriveDeadLetters(options())).toEqual({ moved: 2, kept: { '1008006': 1, INVALID_MESSAGE: 1 } });
    expect((await sqs.depth()).deadLettered).toBe(2);
    await runWorkerUntilDrained();
    expect(tpns.accountsOf('ios', 'redrive-shared')).toEqual([{ account: 'bob-02', accountType: 0 }]);

    // Running it again moves nothing: the kept letters stay, visible, for the next look.
    expect(await redriveDeadLetters(options())).toEqual({ moved: 0, kept: { '1008006': 1, INVALID_MESSAGE: 1 } });
    expect(await sqs.depth()).toMatchObject({ queued: 0, inFlight: 0, deadLettered: 2 });

    // The token became valid (say, the app re-registered it): --include-refused re-queues its work.
    tpns.setInvalidTokens([]);
    expect(await redriveDeadLetters({ ...options(), includeRefused: true })).toEqual({ moved: 1, kept: { INVALID_MESSAGE: 1 } });
    await runWorkerUntilDrained();
    expect(tpns.accountsOf('android', INVALID)).toEqual([{ account: 'dave-04', accountType: 0 }]);
    const left = (await stack.drainDeadLetters()) as { reason: { code: string } }[];
    expect(left).toEqual([expect.objectContaining({ reason: expect.objectContaining({ code: 'INVALID_MESSAGE' }) })]);
  });
});
