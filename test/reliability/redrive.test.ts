/**
 * redriveDeadLetters against a dead-letter queue filled by real failures of the running system:
 * a key whose read-backs kept finding TPNS different (NOT_CONVERGING, with both states), a key
 * message SQS gave up on after maxReceiveCount failed receives (the ledger was down), a token
 * TPNS refused for good (1008006), and a body that is no message at all (INVALID_MESSAGE).
 * After the fix, redrive moves what can converge now, keeps the rest, and the worker reconciles
 * what was moved to the ledger's current intent.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as login } from '../../functions/login.js';
import { redriveDeadLetters } from '../../lib/queue/redrive.js';
import { LOCAL_CREDENTIALS } from '../../local/sqs/client.js';
import { httpEvent, httpSignIn, invokeHttp } from '../integration/functions/harness.js';
import { ADMIN_SCOPE } from './support/drive.js';
import { startReliabilityStack } from './support/stack.js';
import type { ReliabilityStack } from './support/stack.js';

const INVALID = 'redrive-invalid-token';

let stack: ReliabilityStack;
beforeAll(async () => {
  // Two read-backs before a key counts as not converging (deployed: 6).
  stack = await startReliabilityStack({ invalidTokens: [INVALID], env: { MAX_VERIFY_ATTEMPTS: '2', POWERTOOLS_LOG_LEVEL: 'ERROR' } });
});
afterAll(() => stack.close());

const options = () => ({ dlqUrl: stack.sqs.dlqUrl, queueUrl: stack.sqs.queueUrl, endpoint: stack.sqs.endpoint, credentials: LOCAL_CREDENTIALS });

async function runWorkerUntilDrained(): Promise<void> {
  const worker = stack.startWorker({ concurrency: 1, visibilityTimeoutSeconds: 1 });
  await worker.drained();
  await stack.tpns.idle();
  await worker.stop();
}

interface Letter {
  type: string;
  reason?: { code: string };
  key?: { token?: string };
  desired?: unknown;
  actual?: unknown;
  keys?: { token?: string }[];
}

describe('redriveDeadLetters', () => {
  it('moves what can converge after the fix, keeps refused keys unless told and invalid messages always; the worker reconciles what was moved', { timeout: 90_000 }, async () => {
    const { tpns, sqs, client, dynamo } = stack;

    // 1. A bulk (queued) with a token TPNS refuses for good, and garbage in the binding queue.
    const bulk = await invokeHttp(
      login,
      httpEvent('POST /v1/admin/bindings', {
        account: 'ops',
        scope: ADMIN_SCOPE,
        body: { items: Array.from({ length: 21 }, (_, i) => ({ token: i === 0 ? INVALID : `redrive-bulk-${i}`, account: `bulk-user-${i}`, platform: 'android' })) },
      }),
    );
    expect(bulk.statusCode).toBe(202);
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: '{"not":"a message"}' }));
    await runWorkerUntilDrained();

    // 2. TPNS takes pushes but applies them only after 8 s: both read-backs find it different.
    tpns.setPropagationDelay(8_000);
    expect((await httpSignIn('slow-user-01', 'redrive-slow', 'ios')).statusCode).toBe(200);
    await runWorkerUntilDrained();
    tpns.setPropagationDelay(0);

    // 3. The ledger is down while a key message is worked on: every receive fails until SQS gives up on it.
    expect((await httpSignIn('ledger-user-01', 'redrive-ledger')).statusCode).toBe(200);
    await runWorkerUntilDrained();
    const down = dynamo.faults.add({ kind: 'InternalServerError' });
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: JSON.stringify({ v: 2, phase: 'push', correlationId: 'r-ledger', attempt: 0, keys: [{ kind: 'token', platform: 'android', token: 'redrive-ledger' }] }) }));
    await runWorkerUntilDrained();
    dynamo.faults.remove(down.id);

    const peek = await peekDeadLetters();
    expect(peek.map(describeLetter).sort()).toEqual(['1008006:redrive-invalid-token', 'INVALID_MESSAGE', 'NOT_CONVERGING:redrive-slow', 'key-message:redrive-ledger']);
    const drift = peek.find((letter) => letter.reason?.code === 'NOT_CONVERGING');
    // The letter carries both states: what the ledger wants, what TPNS held.
    expect(drift).toMatchObject({ desired: { empty: false, bound: [{ account: 'slow-user-01', accountType: 0 }] }, actual: [] });

    // The fix is in (TPNS applies again, the ledger is back): redrive moves the two that can converge now.
    expect(await redriveDeadLetters(options())).toEqual({ moved: 2, kept: { '1008006': 1, INVALID_MESSAGE: 1 } });
    expect((await sqs.depth()).deadLettered).toBe(2);
    await runWorkerUntilDrained();
    expect(tpns.accountsOf('ios', 'redrive-slow')).toEqual([{ account: 'slow-user-01', accountType: 0 }]);
    expect(tpns.accountsOf('android', 'redrive-ledger')).toEqual([{ account: 'ledger-user-01', accountType: 0 }]);

    // Running it again moves nothing: the kept letters stay, visible, for the next look.
    expect(await redriveDeadLetters(options())).toEqual({ moved: 0, kept: { '1008006': 1, INVALID_MESSAGE: 1 } });
    expect(await sqs.depth()).toMatchObject({ queued: 0, inFlight: 0, deadLettered: 2 });

    // The token became valid (say, the app re-registered it): --include-refused re-queues its key, and the worker binds it.
    tpns.setInvalidTokens([]);
    expect(await redriveDeadLetters({ ...options(), includeRefused: true })).toEqual({ moved: 1, kept: { INVALID_MESSAGE: 1 } });
    await runWorkerUntilDrained();
    expect(tpns.accountsOf('android', INVALID)).toEqual([{ account: 'bulk-user-0', accountType: 0 }]);
    const left = (await stack.drainDeadLetters()) as Letter[];
    expect(left.map(describeLetter)).toEqual(['INVALID_MESSAGE']);
    expect(await stack.sqs.messages('binding')).toEqual([]);
  });
});

/** `<reason>:<token>` for the worker's letters, `key-message:<token>` for a message SQS moved itself. */
function describeLetter(letter: Letter): string {
  if (letter.type === 'dead-letter') return letter.key?.token ? `${letter.reason?.code}:${letter.key.token}` : String(letter.reason?.code);
  return `key-message:${letter.keys?.map((key) => key.token).join(',')}`;
}

/** The dead-letter queue's messages, left in it. */
async function peekDeadLetters(): Promise<Letter[]> {
  return (await stack.sqs.messages('dead-letters')).map(({ body }) => {
    const parsed = JSON.parse(body) as Letter & { v?: number; phase?: string };
    return parsed.type === 'dead-letter' ? parsed : { ...parsed, type: 'key-message' };
  });
}
