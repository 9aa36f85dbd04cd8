/**
 * Ordering between the direct path and queued work of the same token or account.
 *
 * The product applies small work directly and queues only what TPNS did not take; the queue is
 * FIFO per token. A direct operation does not wait for queued work of the same token, so a
 * queued operation accepted EARLIER can land AFTER it. The first test is the guarantee the spec
 * states explicitly (a queued login never outlives a later logout); the KNOWN GAP tests pin
 * today's outcome against "operations on one token take effect in the order they were
 * accepted" (docs/reliability.md, "Known gaps").
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as deleteAccount } from '../../functions/delete-account.js';
import { handler as login } from '../../functions/login.js';
import { handler as logout } from '../../functions/logout.js';
import { resetRuntimeForTests } from '../../lib/config/runtime.js';
import { httpEvent, invokeHttp } from '../integration/functions/harness.js';
import { startReliabilityStack } from './support/stack.js';
import type { ReliabilityStack } from './support/stack.js';

const TOKEN = 'shared-device-0001';

let stack: ReliabilityStack;
beforeAll(async () => {
  // A stopped worker's pending long poll can still take a message: keep it away for seconds, not 6 minutes.
  stack = await startReliabilityStack({ queueAttributes: { VisibilityTimeout: '2' } });
});
afterAll(() => stack.close());
beforeEach(() => stack.tpns.reset());

const signIn = (account: string) =>
  invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { account, pathParameters: { token: TOKEN }, body: { platform: 'android' } }));
const signOut = (account: string) =>
  invokeHttp(logout, httpEvent('DELETE /v1/me/devices/{token}', { account, pathParameters: { token: TOKEN }, query: { platform: 'android' } }));
const eraseAccount = (account: string) => invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account }));

/**
 * The next request lands on another Lambda container: a fresh runtime, whose direct path has not
 * seen TPNS fail (a container that has backs off for a few seconds and queues at once).
 */
function anotherContainer(): void {
  resetRuntimeForTests();
}

/** Makes every TPNS call fail until the returned function is called: the direct path gives up and queues. */
function tpnsDown(): () => void {
  stack.tpns.injectFault({ kind: 'internal' });
  return () => stack.tpns.clearFaults();
}

async function runWorkerUntilDrained(): Promise<void> {
  const worker = stack.startWorker({ concurrency: 1 });
  await worker.drained();
  await worker.stop();
}

const accountsOnDevice = () => stack.tpns.accountsOf('android', TOKEN).map((held) => held.account);

describe('ordering of direct and queued work on one token', () => {
  it('a queued sign-in never outlives a later sign-out (the confirming op 3)', async () => {
    const up = tpnsDown();
    expect((await signIn('alice-01')).statusCode).toBe(202);
    up();
    anotherContainer();
    expect((await signOut('alice-01')).statusCode).toBe(200);
    await runWorkerUntilDrained();
    expect(accountsOnDevice()).toEqual([]);
  });

  // The KNOWN GAP tests pin today's (wrong) outcome, so that a fix turns them red: then assert
  // the outcome in the comment instead.
  it('KNOWN GAP: signing out and straight back in: the queued op 3 removes the new sign-in', async () => {
    expect((await signIn('alice-01')).statusCode).toBe(200);
    expect((await signOut('alice-01')).statusCode).toBe(200);
    expect((await signIn('alice-01')).statusCode).toBe(200); // before the worker got to the confirmation
    await runWorkerUntilDrained();
    expect(accountsOnDevice()).toEqual([]); // should be ['alice-01']
  });

  it("KNOWN GAP: a previous user's queued sign-in takes the device back from the user signed in since", async () => {
    const up = tpnsDown();
    expect((await signIn('alice-01')).statusCode).toBe(202);
    up();
    anotherContainer();
    expect((await signIn('bob-02')).statusCode).toBe(200);
    await runWorkerUntilDrained();
    // bob is signed in on the device, yet it now receives alice's notifications.
    expect(accountsOnDevice()).toEqual(['alice-01']); // should be ['bob-02']
  });

  it('KNOWN GAP: a sign-in queued before an account deletion re-binds the erased account', async () => {
    const up = tpnsDown();
    expect((await signIn('carol-03')).statusCode).toBe(202);
    up();
    anotherContainer();
    expect((await eraseAccount('carol-03')).statusCode).toBe(200);
    await runWorkerUntilDrained();
    expect(accountsOnDevice()).toEqual(['carol-03']); // should be []
  });
});
