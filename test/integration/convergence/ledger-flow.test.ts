/**
 * The ledger flow end to end on real parts (TPNS emulator, fauxqs, dynalite, the worker behind
 * an SQS event source): every operation recorded, pushed, read back and verified.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as deleteAccount } from '../../../functions/delete-account.js';
import { handler as query } from '../../../functions/query.js';
import { localDynamoClient } from '../../../local/dynamodb/local-dynamo.js';
import { useStack } from '../../support/use-stack.js';
import type { Stack } from '../../support/stack.js';
import { httpEvent, httpSignIn, httpSignOut, invokeHttp } from '../functions/harness.js';

let stack: Stack;
useStack((started) => (stack = started), { worker: {} });
beforeEach(() => {
  stack.tpns.clearFaults();
  stack.tpns.setApplyWindow(null);
});

let counter = 0;
const freshToken = () => `tok${Date.now().toString(36)}${(counter++).toString(36)}`;

const devices = (account: string, source?: string) =>
  invokeHttp(query, httpEvent('GET /v1/me/devices', { account, ...(source ? { query: { source } } : {}) }));
const erasure = (account: string) =>
  invokeHttp(query, httpEvent('GET /v1/admin/erasures/{account}', { account: 'admin-1', scope: 'tpns/admin', pathParameters: { account } }));

describe('sign-in', () => {
  it('answers 200 after TPNS took it, shows the device from the ledger at once, and is verified after the read-back', async () => {
    const token = freshToken();
    const answer = await httpSignIn('user-a1', token);
    expect(answer).toMatchObject({ statusCode: 200, body: { applied: 1, failed: [] } });
    const before = await devices('user-a1');
    expect(before.body).toMatchObject({ account: 'user-a1', devices: [{ platform: 'android', token, state: 'applied' }] });
    await stack.quiesce();
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'user-a1', accountType: 0 }]);
    const after = await devices('user-a1');
    expect(after.body).toMatchObject({ devices: [{ token, state: 'verified' }] });
    const live = await devices('user-a1', 'tpns');
    expect(live.body).toEqual({ account: 'user-a1', devices: [{ platform: 'android', token }] });
  });

  it('hands a shared device over: the previous user no longer lists it, TPNS holds only the new one', async () => {
    const token = freshToken();
    await httpSignIn('user-b1', token);
    await httpSignIn('user-b2', token);
    expect((await devices('user-b1')).body).toMatchObject({ devices: [] });
    expect((await devices('user-b2')).body).toMatchObject({ devices: [{ token }] });
    await stack.quiesce();
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'user-b2', accountType: 0 }]);
  });

  it('is recorded and queued (202) when TPNS keeps failing, and the worker pushes it once TPNS is back', async () => {
    const token = freshToken();
    const fault = stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    const answer = await httpSignIn('user-c1', token);
    expect(answer).toMatchObject({ statusCode: 202, body: { queued: 1 } });
    expect((await devices('user-c1')).body).toMatchObject({ devices: [{ token, state: 'pending' }] });
    expect(fault.fired).toBeGreaterThan(0);
    stack.tpns.clearFaults();
    await stack.quiesce();
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'user-c1', accountType: 0 }]);
    expect((await devices('user-c1')).body).toMatchObject({ devices: [{ token, state: 'verified' }] });
  });

  it('converges when TPNS applies tasks out of order: the read-back repairs what landed last', async () => {
    stack.tpns.setApplyWindow({ minMs: 0, maxMs: 400 });
    const token = freshToken();
    for (const account of ['user-d1', 'user-d2', 'user-d3', 'user-d4']) await httpSignIn(account, token);
    await stack.quiesce();
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'user-d4', accountType: 0 }]);
  });
});

describe('sign-out', () => {
  it('clears the whole token, bindings the ledger never saw included', async () => {
    const token = freshToken();
    await httpSignIn('user-e1', token);
    await httpSignOut('user-e1', token);
    await stack.quiesce();
    expect(stack.tpns.accountsOf('android', token)).toEqual([]);
    expect((await devices('user-e1')).body).toMatchObject({ devices: [] });
  });

  it('a stale sign-out by the previous user after a handover still clears the token (the last accepted operation wins)', async () => {
    const token = freshToken();
    await httpSignIn('user-f1', token);
    await httpSignIn('user-f2', token);
    await httpSignOut('user-f1', token);
    await stack.quiesce();
    expect(stack.tpns.accountsOf('android', token)).toEqual([]);
  });
});

describe('account deletion', () => {
  it('erases the account on both apps, leaves a receipt that reaches verified, and keeps no plaintext of it', async () => {
    const [android, ios] = [freshToken(), freshToken()];
    await httpSignIn('erase-me-1', android);
    await httpSignIn('erase-me-1', ios, 'ios');
    const answer = await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'erase-me-1' }));
    expect(answer).toMatchObject({ statusCode: 200, body: { applied: 2, failed: [] } });
    expect((await erasure('erase-me-1')).body).toMatchObject({ account: 'erase-me-1', state: 'applied' });
    await stack.quiesce();
    expect(stack.tpns.tokensOf('android', 'erase-me-1')).toEqual([]);
    expect(stack.tpns.tokensOf('ios', 'erase-me-1')).toEqual([]);
    const receipt = await erasure('erase-me-1');
    expect(receipt).toMatchObject({ statusCode: 200, body: { state: 'verified', apps: { android: { verifiedAt: expect.any(String) }, ios: { verifiedAt: expect.any(String) } } } });
    const client = localDynamoClient(stack.dynamo.endpoint);
    const { Items = [] } = await client.send(new ScanCommand({ TableName: stack.dynamo.tableName }));
    client.destroy();
    expect(JSON.stringify(Items)).not.toContain('erase-me-1');
    expect(Items.length).toBeGreaterThan(0);
  });

  it('answers 404 for an account that was never deleted', async () => {
    expect((await erasure('never-deleted')).statusCode).toBe(404);
  });

  it('a sign-in accepted after the deletion binds the account again', async () => {
    const token = freshToken();
    await httpSignIn('comeback-1', token);
    await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'comeback-1' }));
    await httpSignIn('comeback-1', token);
    await stack.quiesce();
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'comeback-1', accountType: 0 }]);
    expect((await devices('comeback-1')).body).toMatchObject({ devices: [{ token, state: 'verified' }] });
  });

  it('a sign-in TPNS failed, queued before the deletion, never binds the erased account', async () => {
    const token = freshToken();
    stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    expect((await httpSignIn('late-1', token)).statusCode).toBe(202);
    stack.tpns.clearFaults();
    await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'late-1' }));
    const deletionAnswered = Date.now();
    await stack.quiesce();
    expect(stack.tpns.tokensOf('android', 'late-1')).toEqual([]);
    const bindsAfter = stack.tpns
      .requests()
      .filter((entry) => entry.path.endsWith('batchoperate') && entry.operatorType === 2 && entry.receivedAt > deletionAnswered)
      .filter((entry) => JSON.stringify(entry.requested ?? []).includes('"late-1"'));
    // G2: nothing asked TPNS to bind the erased account after its deletion was answered.
    expect(bindsAfter).toEqual([]);
    expect(stack.tpns.requests().some((entry) => entry.operatorType === 2 && JSON.stringify(entry.requested ?? []).includes('"late-1"'))).toBe(true);
  });
});
