/**
 * The worker dies mid-batch: the first records of the batch were applied at TPNS, then the
 * invocation throws (as a crash or a timeout looks to Lambda), so SQS hands the WHOLE batch back.
 * Redelivery must lose nothing and double-apply nothing harmful.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as login } from '../../functions/login.js';
import { handler as logout } from '../../functions/logout.js';
import { httpEvent, invokeHttp } from '../integration/functions/harness.js';
import { ADMIN_SCOPE } from './support/drive.js';
import { startReliabilityStack } from './support/stack.js';
import type { ReliabilityStack } from './support/stack.js';

class WorkerCrash extends Error {
  override name = 'WorkerCrash';
}

let stack: ReliabilityStack;
beforeAll(async () => {
  stack = await startReliabilityStack({ invalidTokens: ['crash-dead-token'] });
});
afterAll(() => stack.close());

const devices = Array.from({ length: 60 }, (_, i) => ({ token: `crash-token-${String(i).padStart(2, '0')}`, platform: 'android' as const }));

describe('worker crash mid-batch', () => {
  it('redelivers the whole batch; the final bindings are as if it had never crashed', async () => {
    const { tpns } = stack;
    // Queued work before any worker runs: a 60-item bulk bind (3 chunks), a bulk unbind of 25 of
    // those tokens (2 chunks, after the binds: chunk groups are not ordered, so the test waits
    // for the first drain before sending it), then single sign-outs with their confirming op 3.
    const bulk = await invokeHttp(
      login,
      httpEvent('POST /v1/admin/bindings', {
        account: 'ops-admin',
        scope: ADMIN_SCOPE,
        body: { items: [...devices.map((d, i) => ({ ...d, account: `crash-user-${i % 7}` })), { token: 'crash-dead-token', platform: 'android', account: 'crash-user-0' }] },
      }),
    );
    expect(bulk.statusCode).toBe(202);

    let crashes = 0;
    let appliedBeforeCrash = 0;
    const worker = stack.startWorker({
      concurrency: 1,
      visibilityTimeoutSeconds: 1,
      wrap: (real) => async (event: SQSEvent, context) => {
        if (crashes < 3 && event.Records.length > 1) {
          // Apply the first half for real (TPNS sees it), then die before answering.
          const half = event.Records.slice(0, Math.ceil(event.Records.length / 2));
          await real({ Records: half }, context);
          appliedBeforeCrash += half.length;
          crashes += 1;
          throw new WorkerCrash('the container died mid-batch');
        }
        return real(event, context);
      },
    });
    await worker.drained();
    expect(crashes).toBeGreaterThan(0);
    expect(appliedBeforeCrash).toBeGreaterThan(0);
    // The crashed halves were applied twice: TPNS saw more bind items than were queued.
    const boundItems = tpns.requests().filter((entry) => entry.operatorType === 2 && entry.httpStatus === 200).reduce((sum, entry) => sum + (entry.items ?? 0), 0);
    expect(boundItems).toBeGreaterThan(devices.length + 1);
    for (const [i, device] of devices.entries()) expect(tpns.accountsOf('android', device.token)).toEqual([{ account: `crash-user-${i % 7}`, accountType: 0 }]);

    // Sign-outs (op 4 direct + op 3 queued) and a bulk unbind, crashed through again.
    crashes = 0;
    for (const device of devices.slice(0, 10)) {
      const answer = await invokeHttp(
        logout,
        httpEvent('DELETE /v1/me/devices/{token}', { account: 'crash-user-0', pathParameters: { token: device.token }, query: { platform: 'android' } }),
      );
      expect(answer.statusCode).toBe(200);
    }
    const unbind = await invokeHttp(
      logout,
      httpEvent('POST /v1/admin/unbind-tokens', { account: 'ops-admin', scope: ADMIN_SCOPE, body: { platform: 'android', tokens: devices.slice(10, 35).map((d) => d.token) } }),
    );
    expect(unbind.statusCode).toBe(202);
    await worker.drained();
    expect(crashes).toBeGreaterThan(0);

    const state = new Map(tpns.state('android').tokens.map(({ token, accounts }) => [token, accounts]));
    for (const device of devices.slice(0, 35)) expect(state.get(device.token) ?? []).toEqual([]);
    for (const [i, device] of devices.entries()) {
      if (i >= 35) expect(state.get(device.token)).toEqual([{ account: `crash-user-${i % 7}`, accountType: 0 }]);
    }
    // Redelivered dead letters are deduplicated: the invalid token is dead-lettered once.
    const letters = (await stack.drainDeadLetters()) as { reason: { code: string }; work: { items: { token: string }[] } }[];
    expect(letters.map((letter) => [letter.reason.code, letter.work.items.map((item) => item.token)])).toEqual([['1008006', ['crash-dead-token']]]);
    expect(await stack.sqs.depth()).toEqual({ queued: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
  });
});
