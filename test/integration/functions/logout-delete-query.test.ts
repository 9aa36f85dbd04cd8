import { beforeEach, describe, expect, it } from 'vitest';
import { useStack } from '../../support/use-stack.js';
import { handler as deleteAccount } from '../../../functions/delete-account.js';
import { handler as logout } from '../../../functions/logout.js';
import { handler as query } from '../../../functions/query.js';
import { captureOutput } from '../../support/output.js';
import { TEST_VERIFY_DELAY_SECONDS, freshName } from '../../support/stack.js';
import {
  fixture,
  httpEvent,
  httpSignIn,
  httpSignOut,
  invokeHttp,
  lambdaContext,
  QUEUE_DOWN,
  queuedForErasure,
  queuedForToken,
  withEnv,
} from './harness.js';
import { batchCalls } from '../../support/tpns-calls.js';
import { startQuietStack } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';

const TOKEN = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const AUTH0_USER = 'auth0|5f7c8ec7c33c6c004bbafe82';

let stack: Stack;
useStack((started) => (stack = started), {}, startQuietStack);
beforeEach(() => stack.reset());

const freshToken = freshName;

const devices = (account: string, query_: Record<string, string> = {}) =>
  invokeHttp(query, httpEvent('GET /v1/me/devices', { account, query: query_ }));
const receipt = (account: string, scope = 'tpns/admin') =>
  invokeHttp(query, httpEvent('GET /v1/admin/erasures/{account}', { account: 'admin-1', scope, pathParameters: { account } }));

describe('a trigger the function is not wired for', () => {
  it('an HTTP route it does not serve answers 404, naming the routes it does', async () => {
    const answer = await invokeHttp(logout, httpEvent('PUT /v1/me/devices/{token}', { pathParameters: { token: freshToken('tok-elsewhere') }, body: { platform: 'ios' } }));
    expect(answer).toMatchObject({ statusCode: 404, body: { error: expect.stringMatching(/No route PUT \/v1\/me\/devices\/\{token\}; this function serves DELETE \/v1\/me\/devices\/\{token\}, POST \/v1\/admin\/unbind-tokens/) as string } });
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('a Cognito trigger gets its event back (the sign-in goes on), binds nothing, and the mis-wiring is logged at ERROR', async () => {
    const event = fixture('cognito-post-authentication');
    const output = captureOutput();
    const result = await logout(structuredClone(event), lambdaContext());
    output.stop();
    expect(result).toEqual(event);
    expect(output).toHaveLogged({
      level: 'ERROR',
      message: 'Cognito trigger failed; the sign-in goes on, the device binding may be missing',
      error: expect.objectContaining({ message: expect.stringMatching(/no Cognito trigger: this function is not wired to one/) as string }) as object,
    });
    expect(stack.tpns.requests()).toHaveLength(0);
  });
});

describe('logout', () => {
  it('DELETE /v1/me/devices/{token}: op 4 directly, then a read-back of the token queued', async () => {
    const token = freshToken('tok-out');
    await httpSignIn('user-1001', token, 'android');
    const answer = await httpSignOut('user-1001', token);
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({ applied: 1, failed: [] });
    expect(stack.tpns.accountsOf('android', token)).toEqual([]);
    expect(batchCalls(stack.tpns, 4)).toHaveLength(1);
    const queued = await queuedForToken(stack.sqs, token);
    // The sign-in's read-back and the sign-out's: both read TPNS against the then-current intent (empty).
    expect(queued.map(({ message, delaySeconds }) => [message.phase, delaySeconds])).toEqual([
      ['verify', TEST_VERIFY_DELAY_SECONDS],
      ['verify', TEST_VERIFY_DELAY_SECONDS],
    ]);
    expect((await devices('user-1001')).body.devices).not.toEqual(expect.arrayContaining([expect.objectContaining({ token })]));
  });

  it('clears bindings the ledger never saw (op 4 on the whole token)', async () => {
    const token = freshToken('tok-sdk');
    await httpSignIn('user-1001', token, 'ios');
    // Bound by the mobile SDK, behind the ledger's back, on another account type.
    const [{ TpnsClient }, { configFromEnv }] = await Promise.all([import('../../../lib/tpns/client.js'), import('../../../lib/config/config.js')]);
    await new TpnsClient(configFromEnv(stack.tpns.env).tpns).bind('ios', [{ token, account: 'sdk-user', accountType: 7 }]);
    expect(stack.tpns.accountsOf('ios', token)).toHaveLength(2);
    expect((await httpSignOut('user-1001', token, 'ios')).statusCode).toBe(200);
    expect(stack.tpns.accountsOf('ios', token)).toEqual([]);
  });

  it('needs ?platform=, naming it', async () => {
    const answer = await invokeHttp(logout, httpEvent('DELETE /v1/me/devices/{token}', { pathParameters: { token: TOKEN } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual([{ path: 'query.platform', message: 'must be "android" or "ios"' }]);
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('POST /v1/admin/unbind-tokens: admin scope, then op 4 for every token', async () => {
    await httpSignIn('user-a1', 'tok-a', 'ios');
    await httpSignIn('user-b1', 'tok-b', 'ios');
    const body = { platform: 'ios', tokens: ['tok-a', 'tok-b'] };
    expect((await invokeHttp(logout, httpEvent('POST /v1/admin/unbind-tokens', { body }))).statusCode).toBe(403);
    const answer = await invokeHttp(logout, httpEvent('POST /v1/admin/unbind-tokens', { scope: 'openid tpns/admin', body }));
    expect(answer).toMatchObject({ statusCode: 200, body: { applied: 2, failed: [] } });
    expect(stack.tpns.state('ios').tokens).toEqual([]);
  });

  it('POST /v1/admin/unbind-tokens: more than one TPNS call is recorded and queued as push keys (202)', async () => {
    const tokens = Array.from({ length: 25 }, (_, i) => `many-out-${i}`);
    const answer = await invokeHttp(logout, httpEvent('POST /v1/admin/unbind-tokens', { scope: 'tpns/admin', body: { platform: 'android', tokens } }));
    expect(answer).toMatchObject({ statusCode: 202, body: { queued: 25, chunks: 2 } });
    expect(stack.tpns.requests()).toHaveLength(0);
    expect((await queuedForToken(stack.sqs, 'many-out-24')).map(({ message }) => message.phase)).toEqual(['push']);
  });

  it('EventBridge account.logout signs the device out', async () => {
    await httpSignIn('user-1001', TOKEN, 'android');
    expect(await logout(fixture('eventbridge-account-logout'), lambdaContext())).toEqual({ status: 200, body: { applied: 1, failed: [] } });
    expect(stack.tpns.accountsOf('android', TOKEN)).toEqual([]);
  });

  it('answers 503 with Retry-After when the read-back cannot be queued (op 4 is idempotent: retry)', async () => {
    await withEnv(QUEUE_DOWN, async () => {
      const answer = await httpSignOut('user-1001', TOKEN);
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['Retry-After']).toBe('5');
    });
  });

  it('answers 503 with Retry-After when the ledger cannot record the sign-out, and makes no TPNS call', async () => {
    stack.dynamo.faults.add({ kind: 'InternalServerError' });
    const answer = await httpSignOut('user-1001', TOKEN);
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['Retry-After']).toBeDefined();
    expect(stack.tpns.requests()).toHaveLength(0);
    stack.dynamo.faults.clear();
    await expect(logout(fixture('eventbridge-account-logout'), lambdaContext())).resolves.toMatchObject({ status: 200 });
    stack.dynamo.faults.add({ kind: 'InternalServerError' });
    await expect(logout(fixture('eventbridge-account-logout'), lambdaContext())).rejects.toThrow(/ledger/);
  });
});

describe('delete-account', () => {
  it('answers 500 (our fault, not the caller\'s) on a deployment with no TPNS app configured, records no deletion, and logs why', async () => {
    const account = freshName('no-apps');
    await withEnv({ TPNS_IOS_ACCESS_ID: '', TPNS_IOS_SECRET_KEY: '', TPNS_ANDROID_ACCESS_ID: '', TPNS_ANDROID_SECRET_KEY: '' }, async () => {
      const output = captureOutput();
      const answer = await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account }));
      output.stop();
      // An erasure that silently covered no app would be worse than an error.
      expect(answer).toMatchObject({ statusCode: 500, body: { error: 'Internal error' } });
      expect(output).toHaveLogged({ level: 'ERROR', message: 'Request failed', error: expect.objectContaining({ message: expect.stringMatching(/No TPNS platform is configured/) as string }) as object });
    });
    expect(stack.tpns.requests()).toHaveLength(0);
    expect((await receipt(account)).statusCode).toBe(404);
  });

  it('DELETE /v1/me removes every token of the caller on BOTH apps (op 5 on each), then queues a read-back of the erasure', async () => {
    await httpSignIn('user-1001', 'tok-android', 'android');
    await httpSignIn('user-1001', 'tok-ios', 'ios');
    await httpSignIn('someone-else', 'tok-other', 'ios');
    const answer = await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me'));
    expect(answer).toMatchObject({ statusCode: 200, body: { applied: 2, failed: [] } });
    expect(stack.tpns.tokensOf('android', 'user-1001')).toEqual([]);
    expect(stack.tpns.tokensOf('ios', 'user-1001')).toEqual([]);
    expect(stack.tpns.tokensOf('ios', 'someone-else')).toEqual(['tok-other']);
    expect(batchCalls(stack.tpns, 5).map((call) => call.platform).sort()).toEqual(['android', 'ios']);
    const queued = await queuedForErasure(stack.sqs, 'user-1001');
    expect(queued.map(({ message, delaySeconds }) => ({ message, delaySeconds }))).toEqual([
      {
        message: expect.objectContaining({ v: 2, phase: 'verify', attempt: 0, keys: [{ kind: 'erasure', account: 'user-1001' }] }) as unknown,
        delaySeconds: TEST_VERIFY_DELAY_SECONDS,
      },
    ]);
    expect((await devices('user-1001')).body.devices).toEqual([]);
  });

  it('EventBridge account.deleted and Auth0 sdu events erase the account on both apps', async () => {
    await httpSignIn('user-1001', 'tok-1', 'android');
    await httpSignIn(AUTH0_USER, 'tok-2', 'ios');
    expect(await deleteAccount(fixture('eventbridge-account-deleted'), lambdaContext())).toMatchObject({ status: 200 });
    expect(await deleteAccount(fixture('eventbridge-auth0-sdu'), lambdaContext())).toMatchObject({ status: 200, body: { applied: 2 } });
    expect(stack.tpns.state('android').tokens).toEqual([]);
    expect(stack.tpns.state('ios').tokens).toEqual([]);
  });

  it('queues a push of the erasure when TPNS keeps failing (202), and the receipt stays pending', async () => {
    await httpSignIn('flaky-erase-1', freshToken('tok-fe'), 'android');
    stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    const answer = await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'flaky-erase-1' }));
    expect(answer).toMatchObject({ statusCode: 202, body: { queued: 2, chunks: 1, applied: 0 } });
    expect((await queuedForErasure(stack.sqs, 'flaky-erase-1')).map(({ message }) => message.phase)).toEqual(['push']);
    expect((await receipt('flaky-erase-1')).body).toMatchObject({ account: 'flaky-erase-1', state: 'pending' });
  });

  it('answers 503 with Retry-After when the ledger cannot record the deletion, and makes no TPNS call', async () => {
    stack.dynamo.faults.add({ kind: 'InternalServerError' });
    const answer = await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'not-yet-erased' }));
    expect(answer.statusCode).toBe(503);
    expect(Number(answer.headers['Retry-After'])).toBeGreaterThan(0);
    expect(stack.tpns.requests()).toHaveLength(0);
    await expect(deleteAccount(fixture('eventbridge-account-deleted'), lambdaContext())).rejects.toThrow(/ledger/);
    stack.dynamo.faults.clear();
    expect((await receipt('not-yet-erased')).statusCode).toBe(404); // never half-accepted
  });

  it('POST /v1/admin/delete-accounts: more than one call per app is recorded and queued as erasure keys (202)', async () => {
    const accounts = Array.from({ length: 45 }, (_, i) => ({ account: `gone-${i}` }));
    const answer = await invokeHttp(deleteAccount, httpEvent('POST /v1/admin/delete-accounts', { scope: 'tpns/admin', body: { accounts } }));
    // 45 accounts x 2 apps = 90 items, in 3 messages of <= 20 keys (a key covers both apps).
    expect(answer).toMatchObject({ statusCode: 202, body: { queued: 90, chunks: 3 } });
    expect(stack.tpns.requests()).toHaveLength(0);
    expect((await queuedForErasure(stack.sqs, 'gone-44')).map(({ message }) => message.phase)).toEqual(['push']);
    expect((await receipt('gone-44')).body).toMatchObject({ state: 'pending', apps: { android: {}, ios: {} } });
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

describe('GET /v1/admin/erasures/{account}', () => {
  it('answers the receipt of a deletion: requested, applied on each app (verified only after the read-back)', async () => {
    const before = new Date().toISOString();
    await httpSignIn('receipt-1', freshToken('tok-r'), 'ios');
    expect((await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'receipt-1' }))).statusCode).toBe(200);
    const answer = await receipt('receipt-1');
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({
      account: 'receipt-1',
      requestedAt: expect.any(String) as string,
      state: 'applied',
      apps: { android: { appliedAt: expect.any(String) as string }, ios: { appliedAt: expect.any(String) as string } },
    });
    expect(answer.body.requestedAt as string >= before).toBe(true);
  });

  it('keeps receipts per account type', async () => {
    await invokeHttp(deleteAccount, httpEvent('POST /v1/admin/delete-accounts', { scope: 'tpns/admin', body: { accounts: [{ account: 'typed-1', accountType: 5 }] } }));
    expect((await receipt('typed-1')).statusCode).toBe(404);
    const typed = await invokeHttp(query, httpEvent('GET /v1/admin/erasures/{account}', { scope: 'tpns/admin', pathParameters: { account: 'typed-1' }, query: { accountType: '5' } }));
    expect(typed).toMatchObject({ statusCode: 200, body: { account: 'typed-1', state: 'applied' } });
  });

  it('answers 404 without a receipt, 403 without the admin scope, 400 naming a bad account', async () => {
    expect(await receipt('never-deleted-1')).toMatchObject({ statusCode: 404, body: { error: expect.stringMatching(/No erasure receipt/) as string } });
    expect((await receipt('receipt-1', 'openid')).statusCode).toBe(403);
    const bad = await receipt('x');
    expect(bad.statusCode).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: 'path.account' })]);
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('answers 503 while the ledger is unavailable', async () => {
    stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'GetItem' });
    expect(await receipt('receipt-1')).toMatchObject({ statusCode: 503, headers: { 'Retry-After': expect.any(String) as string } });
  });
});

describe('GET /v1/me/devices', () => {
  it('lists the caller\'s devices on both platforms from the ledger, with their state and since', async () => {
    const [android, ios] = [freshToken('tok-list-a'), freshToken('tok-list-i')];
    await httpSignIn('reader-1', android, 'android');
    await httpSignIn('reader-1', ios, 'ios');
    await httpSignIn('other-reader', freshToken('tok-list-o'), 'ios');
    const answer = await devices('reader-1');
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({
      account: 'reader-1',
      devices: [
        { platform: 'android', token: android, state: 'applied', since: expect.any(String) as string },
        { platform: 'ios', token: ios, state: 'applied', since: expect.any(String) as string },
      ],
    });
    const [first, second] = answer.body.devices as { since: string }[];
    expect(first!.since <= second!.since).toBe(true);
  });

  it('answers from the ledger without asking TPNS; ?source=tpns answers what TPNS holds now', async () => {
    const token = freshToken('tok-src');
    await httpSignIn('reader-2', token, 'android');
    stack.tpns.reset(); // TPNS lost it (or has not propagated it yet)
    const fromLedger = await devices('reader-2');
    expect(fromLedger.body).toMatchObject({ devices: [{ platform: 'android', token }] });
    expect(stack.tpns.requests()).toHaveLength(0);
    expect((await devices('reader-2', { source: 'tpns' })).body).toEqual({ account: 'reader-2', devices: [] });
    await httpSignIn('reader-2', token, 'android');
    expect((await devices('reader-2', { source: 'tpns' })).body).toEqual({ account: 'reader-2', devices: [{ platform: 'android', token }] });
    expect(stack.tpns.requests().filter((entry) => entry.path.endsWith('query')).map((entry) => entry.platform).sort()).toEqual(['android', 'android', 'ios', 'ios']);
  });

  it('shows a sign-in TPNS has not taken as pending', async () => {
    const token = freshToken('tok-pend');
    stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    expect((await httpSignIn('reader-3', token, 'ios')).statusCode).toBe(202);
    expect((await devices('reader-3')).body).toMatchObject({ devices: [{ platform: 'ios', token, state: 'pending' }] });
  });

  it('answers from the ledger while TPNS is down; ?source=tpns answers 503 with Retry-After; 401 without claims', async () => {
    const token = freshToken('tok-down');
    await httpSignIn('reader-4', token, 'android');
    stack.tpns.injectFault({ kind: 'http500' });
    expect(await devices('reader-4')).toMatchObject({ statusCode: 200, body: { devices: [{ token }] } });
    const live = await devices('reader-4', { source: 'tpns' });
    expect(live.statusCode).toBe(503);
    expect(live.headers['Retry-After']).toBeDefined();
    expect((await invokeHttp(query, httpEvent('GET /v1/me/devices', { account: null }))).statusCode).toBe(401);
  });

  it('answers 503 while the ledger is unavailable, 400 naming a bad source', async () => {
    stack.dynamo.faults.add({ kind: 'InternalServerError' });
    expect((await devices('reader-1')).statusCode).toBe(503);
    stack.dynamo.faults.clear();
    const bad = await devices('reader-1', { source: 'cache' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: 'query.source' })]);
  });
});
