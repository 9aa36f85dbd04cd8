/**
 * The direct-path breaker: after TPNS struggled on a direct push, the container records and
 * queues for DIRECT_COOL_DOWN_MS instead of holding every request for the budget; then it probes.
 */
import { describe, expect, it } from 'vitest';
import { handler as logout } from '../../../functions/logout.js';
import { getRuntime } from '../../../lib/config/runtime.js';
import { useStack } from '../../support/use-stack.js';
import { startQuietStack } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';
import { httpEvent, httpSignIn, invokeHttp } from '../functions/harness.js';
import { batchCalls } from '../../support/tpns-calls.js';

const COOL_DOWN_MS = 1_500;
let stack: Stack;
useStack((started) => (stack = started), { env: { DIRECT_COOL_DOWN_MS: String(COOL_DOWN_MS) } }, startQuietStack);


describe('direct-path breaker', () => {
  it('queues at once while open (no TPNS call), and goes direct again after the cool-down', async () => {
    stack.tpns.injectFault({ kind: 'rate-limit', path: 'batchoperate' });
    expect((await httpSignIn('breaker-1', 'breaker-token-1')).statusCode).toBe(202);
    stack.tpns.clearFaults();
    const callsBefore = batchCalls(stack.tpns, 2).length;
    const queued = await httpSignIn('breaker-2', 'breaker-token-2');
    expect(queued).toMatchObject({ statusCode: 202, body: { queued: 1 } });
    expect(batchCalls(stack.tpns, 2)).toHaveLength(callsBefore);
    // A sign-out in the cool-down is queued too, and leaves no lease behind for the worker to wait out.
    const signedOut = await invokeHttp(logout, httpEvent('DELETE /v1/me/devices/{token}', { account: 'breaker-2', pathParameters: { token: 'breaker-token-2' }, query: { platform: 'android' } }));
    expect(signedOut).toMatchObject({ statusCode: 202, body: { queued: 1 } });
    const record = await (await getRuntime()).ledger.getToken({ platform: 'android', token: 'breaker-token-2' });
    expect(record?.clearV).toBeGreaterThan(0);
    expect(record?.lease).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, COOL_DOWN_MS + 100));
    expect(await httpSignIn('breaker-3', 'breaker-token-3')).toMatchObject({ statusCode: 200, body: { applied: 1 } });
  });
});
