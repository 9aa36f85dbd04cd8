/**
 * `tpns-accounts redrive` against the test stack's queues (fauxqs): the real launcher in a child
 * process, v2 dead letters as the worker and SQS leave them, and the worker reconciling what was
 * moved back to the ledger's intent.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger } from '../../lib/ledger/dynamo-ledger.js';
import { INVALID_MESSAGE_CODE, invalidMessageLetter, keyLetter, NOT_CONVERGING_CODE, SqsDeadLetterQueue } from '../../lib/queue/dead-letter.js';
import { keyMessages } from '../../lib/queue/messages.js';
import { LOCAL_CREDENTIALS, localSqsClient } from '../../local/sqs/client.js';
import { runCliProcess, useCliWorld, without } from './harness.js';
import type { CliWorld } from './harness.js';

let world: CliWorld;
useCliWorld((started) => (world = started));
let client: SQSClient;
beforeAll(() => {
  client = localSqsClient(world.stack.sqs.endpoint);
});
afterAll(() => client.destroy());

const sendRaw = (body: string) => client.send(new SendMessageCommand({ QueueUrl: world.stack.sqs.dlqUrl, MessageBody: body }));

describe('tpns-accounts redrive', () => {
  it('moves keys SQS gave up on and keys that did not converge, keeps refused ones until --include-refused, never invalid ones; the worker then repairs them', async () => {
    const { sqs } = world.stack;
    // The ledger holds intents TPNS never got (the pushes were lost): redriving must make TPNS hold them.
    const ledger = new DynamoLedger({ tableName: world.env.BINDINGS_TABLE!, erasureKey: world.env.ERASURE_KEY!, retentionDays: 30 });
    const keys = {
      gaveUp: { kind: 'token', platform: 'ios', token: 'cli-redrive-1' },
      drifted: { kind: 'token', platform: 'android', token: 'cli-redrive-2' },
      refused: { kind: 'token', platform: 'android', token: 'cli-redrive-3' },
    } as const;
    await ledger.recordSignIn(keys.gaveUp, { account: 'alice-01' }, { claim: false });
    await ledger.recordSignIn(keys.drifted, { account: 'bob-02' }, { claim: false });
    await ledger.recordSignIn(keys.refused, { account: 'carol-03' }, { claim: false });

    // As SQS leaves one after maxReceiveCount: the key message itself.
    const [gaveUp] = keyMessages([keys.gaveUp], { phase: 'push', correlationId: 'cli-1' });
    await sendRaw(JSON.stringify(gaveUp!.message));
    // As the worker leaves them: a key that would not converge, a key TPNS refused, a message it could not read.
    const dlq = new SqsDeadLetterQueue({ queueUrl: sqs.dlqUrl, endpoint: sqs.endpoint, credentials: LOCAL_CREDENTIALS });
    await dlq.send([
      keyLetter(keys.drifted, { code: NOT_CONVERGING_CODE, message: 'TPNS still differs' }, { messageId: 'm-2', correlationId: 'cli-2' }, { desired: { bound: [] }, actual: [] }),
      keyLetter(keys.refused, { code: '1008006', message: 'invalid token' }, { messageId: 'm-3', correlationId: 'cli-3' }),
      invalidMessageLetter('{"v":1,"kind":"bind"}', 'not a v2 key message', { messageId: 'm-4' }),
    ]);
    await sendRaw('not json at all');

    const first = await runCliProcess(['redrive', '--json'], world.env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ moved: 2, kept: { '1008006': 1, [INVALID_MESSAGE_CODE]: 1, UNREADABLE: 1 } });
    expect(await sqs.depth()).toMatchObject({ queued: 2, deadLettered: 3 });

    const forced = await runCliProcess(['redrive', '--include-refused'], world.env);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^moved 1 message\(s\) back to the binding queue; kept in the dead-letter queue: /);
    expect(forced.stdout).toContain(`${INVALID_MESSAGE_CODE} x1`);
    expect(forced.stdout).toContain('UNREADABLE x1');
    expect(forced.stdout).not.toContain('1008006');
    expect(await sqs.depth()).toMatchObject({ queued: 3, deadLettered: 2 });

    // The worker reads the moved keys' current intent from the ledger and makes TPNS hold it.
    await world.stack.startWorker();
    await world.stack.quiesce();
    expect(world.emulator.accountsOf('ios', 'cli-redrive-1')).toEqual([{ account: 'alice-01', accountType: 0 }]);
    expect(world.emulator.accountsOf('android', 'cli-redrive-2')).toEqual([{ account: 'bob-02', accountType: 0 }]);
    expect(world.emulator.accountsOf('android', 'cli-redrive-3')).toEqual([{ account: 'carol-03', accountType: 0 }]);
    expect((await sqs.depth()).deadLettered).toBe(2);
  });

  it.each([
    ['the dead-letter queue URL', {}, /redrive needs BINDING_DLQ_URL/],
    ['the binding queue URL', { drop: 'BINDING_QUEUE_URL' }, /redrive needs BINDING_QUEUE_URL/],
    ['a region', { drop: 'AWS_REGION' }, /redrive needs AWS_REGION/],
  ])('is a usage error (exit 2) without %s', async (_name, { drop }: { drop?: string }, message) => {
    const run = await runCliProcess(['redrive'], drop ? without(world.env, drop) : {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
