import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as deleteAccount } from '../../../functions/delete-account.js';
import { handler as login } from '../../../functions/login.js';
import { handler as logout } from '../../../functions/logout.js';
import { handler as query } from '../../../functions/query.js';
import { accountGroupId } from '../../../lib/queue/plan.js';
import { batchCalls, fixture, httpEvent, invokeHttp, lambdaContext, queuedInGroup, startStack } from './harness.js';
import type { Stack } from './harness.js';

const TOKEN = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const AUTH0_USER = 'auth0|5f7c8ec7c33c6c004bbafe82';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());
beforeEach(() => stack.tpns.reset());

const bind = (account: string, token: string, platform: 'android' | 'ios') =>
  invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { account, pathParameters: { token }, body: { platform } }));

describe('logout', () => {
  it('DELETE /v1/me/devices/{token}: op 4 directly, plus a confirming op 3 queued in the token group', async () => {
    await bind('user-1001', TOKEN, 'android');
    const before = await stack.sqs.depth();
    const answer = await invokeHttp(
      logout,
      httpEvent('DELETE /v1/me/devices/{token}', { pathParameters: { token: TOKEN }, query: { platform: 'android' } }),
    );
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({ applied: 1, failed: [] });
    expect(stack.tpns.accountsOf('android', TOKEN)).toEqual([]);
    expect(batchCalls(stack.tpns, 4)).toHaveLength(1);
    expect((await stack.sqs.depth()).queued).toBe(before.queued + 1);
  });

  it('needs ?platform=, naming it', async () => {
    const answer = await invokeHttp(logout, httpEvent('DELETE /v1/me/devices/{token}', { pathParameters: { token: TOKEN } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual([{ path: 'query.platform', message: 'must be "android" or "ios"' }]);
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('POST /v1/admin/unbind-tokens: admin scope, then op 4 for every token', async () => {
    await bind('user-a1', 'tok-a', 'ios');
    await bind('user-b1', 'tok-b', 'ios');
    const body = { platform: 'ios', tokens: ['tok-a', 'tok-b'] };
    expect((await invokeHttp(logout, httpEvent('POST /v1/admin/unbind-tokens', { body }))).statusCode).toBe(403);
    const answer = await invokeHttp(logout, httpEvent('POST /v1/admin/unbind-tokens', { scope: 'openid tpns/admin', body }));
    expect(answer).toMatchObject({ statusCode: 200, body: { applied: 2, failed: [] } });
    expect(stack.tpns.state('ios').tokens).toEqual([]);
  });

  it('EventBridge account.logout signs the device out', async () => {
    await bind('user-1001', TOKEN, 'android');
    expect(await logout(fixture('eventbridge-account-logout'), lambdaContext())).toEqual({ status: 200, body: { applied: 1, failed: [] } });
    expect(stack.tpns.accountsOf('android', TOKEN)).toEqual([]);
  });

  it('answers 503 with Retry-After when the confirmation cannot be queued (op 4 is idempotent: retry)', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_SQS;
    process.env.AWS_ENDPOINT_URL_SQS = 'http://127.0.0.1:9';
    const { resetRuntimeForTests } = await import('../../../lib/config/runtime.js');
    resetRuntimeForTests();
    try {
      const answer = await invokeHttp(
        logout,
        httpEvent('DELETE /v1/me/devices/{token}', { pathParameters: { token: TOKEN }, query: { platform: 'android' } }),
      );
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['Retry-After']).toBe('5');
    } finally {
      process.env.AWS_ENDPOINT_URL_SQS = saved;
      resetRuntimeForTests();
    }
  });
});

describe('delete-account', () => {
  it('DELETE /v1/me removes every token of the caller on BOTH apps (op 5 on each)', async () => {
    await bind('user-1001', 'tok-android', 'android');
    await bind('user-1001', 'tok-ios', 'ios');
    await bind('someone-else', 'tok-other', 'ios');
    const answer = await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me'));
    expect(answer).toMatchObject({ statusCode: 200, body: { applied: 2, failed: [] } });
    expect(stack.tpns.tokensOf('android', 'user-1001')).toEqual([]);
    expect(stack.tpns.tokensOf('ios', 'user-1001')).toEqual([]);
    expect(stack.tpns.tokensOf('ios', 'someone-else')).toEqual(['tok-other']);
    expect(batchCalls(stack.tpns, 5).map((call) => call.platform).sort()).toEqual(['android', 'ios']);
    // A confirming op 5 per app in the account's group, for sign-ins still queued when it was erased.
    const confirmations = (await queuedInGroup(stack.sqs, accountGroupId({ account: 'user-1001' }))).filter((message) => message.kind === 'delete-accounts');
    expect(confirmations.map((message) => message.platform).sort()).toEqual(['android', 'ios']);
    expect(confirmations.map((message) => message.kind === 'delete-accounts' && message.accounts)).toEqual([[{ account: 'user-1001' }], [{ account: 'user-1001' }]]);
  });

  it('EventBridge account.deleted and Auth0 sdu events erase the account on both apps', async () => {
    await bind('user-1001', 'tok-1', 'android');
    await bind(AUTH0_USER, 'tok-2', 'ios');
    expect(await deleteAccount(fixture('eventbridge-account-deleted'), lambdaContext())).toMatchObject({ status: 200 });
    expect(await deleteAccount(fixture('eventbridge-auth0-sdu'), lambdaContext())).toMatchObject({ status: 200, body: { applied: 2 } });
    expect(stack.tpns.state('android').tokens).toEqual([]);
    expect(stack.tpns.state('ios').tokens).toEqual([]);
  });

  it('POST /v1/admin/delete-accounts: more than one call per platform is queued (202)', async () => {
    const accounts = Array.from({ length: 45 }, (_, i) => ({ account: `gone-${i}` }));
    const answer = await invokeHttp(deleteAccount, httpEvent('POST /v1/admin/delete-accounts', { scope: 'tpns/admin', body: { accounts } }));
    // 45 accounts x 2 apps = 90 items, 3 chunks of <= 20 per app.
    expect(answer).toMatchObject({ statusCode: 202, body: { queued: 90, chunks: 6 } });
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('refuses a bad account, naming it', async () => {
    const answer = await invokeHttp(
      deleteAccount,
      httpEvent('POST /v1/admin/delete-accounts', { scope: 'tpns/admin', body: { accounts: [{ account: 'ok-1' }, { account: 'bad\u0007bell' }] } }),
    );
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual([{ path: 'body.accounts.1.account', message: 'must not contain control characters' }]);
  });
});

describe('query', () => {
  it('GET /v1/me/devices lists the caller\'s tokens on both platforms', async () => {
    await bind('user-1001', 'tok-android', 'android');
    await bind('user-1001', 'tok-ios', 'ios');
    const answer = await invokeHttp(query, httpEvent('GET /v1/me/devices'));
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({
      account: 'user-1001',
      devices: [
        { platform: 'android', token: 'tok-android' },
        { platform: 'ios', token: 'tok-ios' },
      ],
    });
  });

  it('answers 503 with Retry-After while TPNS is unavailable, 401 without claims', async () => {
    stack.tpns.injectFault({ kind: 'http500' });
    const answer = await invokeHttp(query, httpEvent('GET /v1/me/devices'));
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['Retry-After']).toBeDefined();
    expect((await invokeHttp(query, httpEvent('GET /v1/me/devices', { account: null }))).statusCode).toBe(401);
  });
});
