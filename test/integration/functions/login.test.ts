import { beforeEach, describe, expect, it } from 'vitest';
import { useStack } from '../../support/use-stack.js';
import { handler } from '../../../functions/login.js';
import { handler as query } from '../../../functions/query.js';
import { TEST_VERIFY_DELAY_SECONDS, freshName } from '../../support/stack.js';
import { QUEUE_DOWN, fixture, httpEvent, invokeHttp, lambdaContext, queuedForToken, queuedKeyMessages, withEnv } from './harness.js';
import { batchCalls } from '../../support/tpns-calls.js';
import { startQuietStack } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';

const TOKEN = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const ROUTE = 'PUT /v1/me/devices/{token}';
const BULK = 'POST /v1/admin/bindings';
const COGNITO_USER = 'f4c8e4a2-7b1d-4e6f-9a3c-2d5e8f1a6b7c';

let stack: Stack;
useStack((started) => (stack = started), {}, startQuietStack);
beforeEach(() => stack.reset());

const freshToken = freshName;

const signIn = (account: string, token: string, body: Record<string, unknown> = { platform: 'android' }) =>
  invokeHttp(handler, httpEvent(ROUTE, { account, pathParameters: { token }, body }));
const devicesOf = async (account: string, accountType?: number) =>
  (await invokeHttp(query, httpEvent('GET /v1/me/devices', { account, ...(accountType === undefined ? {} : { query: { accountType: String(accountType) } }) }))).body.devices;
/** batchoperate calls that named this token. */
const callsFor = (token: string) => batchCalls(stack.tpns).filter((entry) => JSON.stringify(entry.requested ?? entry.body).includes(token));
/** Ledger writes that reached the fault proxy (dynalite) since the counters were reset. */
const ledgerWrites = () => {
  const requests = stack.dynamo.faults.requests();
  return (requests.UpdateItem ?? 0) + (requests.PutItem ?? 0) + (requests.BatchWriteItem ?? 0);
};

describe('PUT /v1/me/devices/{token}', () => {
  it('binds the token to the account of the verified JWT (op 2) and answers 200', async () => {
    const answer = await invokeHttp(handler, fixture('http-api-v2-put-device'));
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({ applied: 1, failed: [] });
    expect(stack.tpns.accountsOf('android', TOKEN)).toEqual([{ account: 'auth0|5f7c8ec7c33c6c004bbafe82', accountType: 0 }]);
    expect(batchCalls(stack.tpns, 2)).toHaveLength(1);
  });

  it('records the sign-in and queues one read-back of the token, delayed VERIFY_DELAY_SECONDS, and no push', async () => {
    const token = freshToken('tok-verify');
    const answer = await signIn('verified-1', token, { platform: 'ios', accountType: 2 });
    expect(answer).toMatchObject({ statusCode: 200, body: { applied: 1, failed: [] } }); // applied: no `queued` in the answer
    const queued = await queuedForToken(stack.sqs, token);
    expect(queued).toEqual([
      {
        message: { v: 2, phase: 'verify', attempt: 0, correlationId: expect.any(String) as string, keys: [{ kind: 'token', platform: 'ios', token }] },
        delaySeconds: TEST_VERIFY_DELAY_SECONDS,
        sentAt: expect.any(Number) as number,
      },
    ]);
    expect(batchCalls(stack.tpns, 2)).toHaveLength(1);
    // Read-your-writes: the ledger lists it at once, applied (not verified before the read-back).
    expect(await devicesOf('verified-1', 2)).toEqual([{ platform: 'ios', token, state: 'applied', since: expect.any(String) as string }]);
    expect(await devicesOf('verified-1')).toEqual([]); // another account type
  });

  it('answers 503 with Retry-After when TPNS applied the sign-in but its read-back cannot be queued (retry is safe)', async () => {
    const token = freshToken('tok-unverified');
    await withEnv(QUEUE_DOWN, async () => {
      const answer = await signIn('unverified-1', token);
      expect(answer.statusCode).toBe(503);
      expect(Number(answer.headers['Retry-After'])).toBeGreaterThan(0);
    });
    // Bound and recorded, but nobody would verify it: the client's retry queues the read-back.
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'unverified-1', accountType: 0 }]);
    expect(await queuedForToken(stack.sqs, token)).toEqual([]);
    expect(await signIn('unverified-1', token)).toMatchObject({ statusCode: 200 });
    expect((await queuedForToken(stack.sqs, token)).map(({ message }) => message.phase)).toEqual(['verify']);
  });

  it('answers 200 when TPNS took the sign-in but its lease could not be given back: the read-back is queued, the lease runs out by itself', async () => {
    const token = freshToken('tok-norelease');
    // The sign-in's own write passes; the release after the push (the next UpdateItem) fails on every attempt.
    stack.dynamo.faults.add({ kind: 'InternalServerError', operation: 'UpdateItem', after: 1 });
    const answer = await signIn('norelease-1', token);
    expect(stack.dynamo.faults.injected().UpdateItem).toBeGreaterThan(0);
    stack.dynamo.faults.clear();
    expect(answer).toMatchObject({ statusCode: 200, body: { applied: 1, failed: [] } });
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'norelease-1', accountType: 0 }]);
    expect((await queuedForToken(stack.sqs, token)).map(({ message }) => message.phase)).toEqual(['verify']);
    // Still held (until LEASE_MS), and pending: the read-back settles it once the lease has run out.
    const devices = await devicesOf('norelease-1');
    expect(devices).toEqual([expect.objectContaining({ token, state: 'pending' })]);
  });

  it('overwrites the previous account of a shared device', async () => {
    const token = freshToken('tok-shared');
    const put = (account: string) =>
      invokeHttp(handler, httpEvent(ROUTE, { account, pathParameters: { token }, body: { platform: 'ios', accountType: 3 } }));
    await put('alice-01');
    expect((await put('bob-02')).statusCode).toBe(200);
    expect(stack.tpns.accountsOf('ios', token)).toEqual([{ account: 'bob-02', accountType: 3 }]);
    expect(await devicesOf('alice-01', 3)).toEqual([]);
    expect(await devicesOf('bob-02', 3)).toEqual([expect.objectContaining({ token })]);
  });

  it.each([
    ['a token with a space', { pathParameters: { token: 'has space' }, body: { platform: 'android' } }, 'path.token'],
    ['a token of 65 characters', { pathParameters: { token: 'x'.repeat(65) }, body: { platform: 'android' } }, 'path.token'],
    ['an unknown platform', { pathParameters: { token: TOKEN }, body: { platform: 'web' } }, 'body.platform'],
    ['a missing platform', { pathParameters: { token: TOKEN }, body: {} }, 'body.platform'],
    ['a negative accountType', { pathParameters: { token: TOKEN }, body: { platform: 'ios', accountType: -1 } }, 'body.accountType'],
    ['an account in the body', { pathParameters: { token: TOKEN }, body: { platform: 'ios', account: 'someone-else' } }, 'body.account'],
    ['a one-character account claim', { account: 'x', pathParameters: { token: TOKEN }, body: { platform: 'ios' } }, 'account'],
    ['a body that is not JSON', { pathParameters: { token: TOKEN }, body: '{"platform":' }, 'body'],
  ])('refuses %s with 400 naming the field, calling nothing and recording nothing', async (_, request, path) => {
    const answer = await invokeHttp(handler, httpEvent(ROUTE, request));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    expect(stack.tpns.requests()).toHaveLength(0);
    expect(ledgerWrites()).toBe(0);
  });

  it('answers 401 without verified claims, 413 for an oversized body, 415 for a non-JSON content type', async () => {
    const noJwt = await invokeHttp(handler, httpEvent(ROUTE, { account: null, pathParameters: { token: TOKEN }, body: { platform: 'ios' } }));
    expect(noJwt.statusCode).toBe(401);
    const huge = { platform: 'ios', padding: 'x'.repeat(5000) };
    expect((await invokeHttp(handler, httpEvent(ROUTE, { pathParameters: { token: TOKEN }, body: huge }))).statusCode).toBe(413);
    const form = httpEvent(ROUTE, { pathParameters: { token: TOKEN }, body: 'platform=ios', contentType: 'application/x-www-form-urlencoded' });
    expect((await invokeHttp(handler, form)).statusCode).toBe(415);
    expect(stack.tpns.requests()).toHaveLength(0);
    expect(ledgerWrites()).toBe(0);
  });

  it('answers 400 naming a platform this deployment has no credentials for', async () => {
    await withEnv({ TPNS_IOS_ACCESS_ID: '', TPNS_IOS_SECRET_KEY: '' }, async () => {
      const answer = await invokeHttp(handler, httpEvent(ROUTE, { pathParameters: { token: TOKEN }, body: { platform: 'ios' } }));
      expect(answer.statusCode).toBe(400);
      expect(answer.body.error).toMatch(/"ios" is not configured/);
      expect(stack.tpns.requests()).toHaveLength(0);
      expect(ledgerWrites()).toBe(0);
    });
  });

  it('records a sign-in TPNS keeps failing and queues a push of its token (202), without losing it', async () => {
    const token = freshToken('tok-queued');
    stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    const answer = await signIn('queued-1', token);
    expect(answer.statusCode).toBe(202);
    expect(answer.body).toMatchObject({ queued: 1, chunks: 1, applied: 0, failed: [] });
    expect(batchCalls(stack.tpns).length).toBeGreaterThan(1); // retried within the budget first
    // A push (the worker sends the then-current intent), no read-back of what TPNS never took.
    const queued = await queuedForToken(stack.sqs, token);
    expect(queued).toEqual([
      expect.objectContaining({ message: expect.objectContaining({ v: 2, phase: 'push', attempt: 0, keys: [{ kind: 'token', platform: 'android', token }] }) }),
    ]);
    expect(queued[0]!.delaySeconds).toBeGreaterThan(0);
    expect(await devicesOf('queued-1')).toEqual([expect.objectContaining({ token, state: 'pending' })]);
  });

  it('cuts a hanging TPNS call off at the direct deadline and queues a push of the token', async () => {
    const token = freshToken('tok-slow');
    stack.tpns.injectFault({ kind: 'latency', latencyMs: 4_000, path: 'batchoperate' });
    const started = performance.now();
    const answer = await signIn('slow-1', token, { platform: 'ios' });
    expect(performance.now() - started).toBeLessThan(3_500);
    expect(answer.statusCode).toBe(202);
    expect(answer.body).toMatchObject({ queued: 1, chunks: 1 });
    expect((await queuedForToken(stack.sqs, token)).map(({ message }) => message.phase)).toEqual(['push']);
    // Let the abandoned call finish, so it does not land in the next test's request log.
    await expect.poll(() => callsFor(token).length, { timeout: 5_000, interval: 100 }).toBeGreaterThan(0);
  });

  it('answers 503 with Retry-After when neither TPNS nor the queue can take the work', async () => {
    stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    await withEnv(QUEUE_DOWN, async () => {
      const answer = await invokeHttp(handler, httpEvent(ROUTE, { pathParameters: { token: TOKEN }, body: { platform: 'android' } }));
      expect(answer.statusCode).toBe(503);
      expect(Number(answer.headers['Retry-After'])).toBeGreaterThan(0);
      expect(JSON.stringify(answer.body)).not.toMatch(/stack|at .*\.ts/);
    });
  });

  it('answers 503 with Retry-After when the ledger cannot record the sign-in, and makes no TPNS call', async () => {
    const token = freshToken('tok-noledger');
    stack.dynamo.faults.add({ kind: 'InternalServerError' });
    const answer = await signIn('noledger-1', token);
    expect(answer.statusCode).toBe(503);
    expect(Number(answer.headers['Retry-After'])).toBeGreaterThan(0);
    expect(answer.body.error).toMatch(/ledger/);
    expect(JSON.stringify(answer.body)).not.toContain(token);
    expect(stack.tpns.requests()).toHaveLength(0);
    expect(await queuedForToken(stack.sqs, token)).toEqual([]);
    stack.dynamo.faults.clear();
    expect(await devicesOf('noledger-1')).toEqual([]); // never half-accepted
  });

  it('answers 503 while DynamoDB throttles past the SDK\'s retries', async () => {
    stack.dynamo.faults.add({ kind: 'ProvisionedThroughputExceededException', operation: 'UpdateItem' });
    const answer = await signIn('throttled-1', freshToken('tok-throttled'));
    expect(answer.statusCode).toBe(503);
    expect(stack.dynamo.faults.injected().UpdateItem).toBeGreaterThan(0);
    expect(batchCalls(stack.tpns)).toHaveLength(0);
  });
});

describe('POST /v1/admin/bindings', () => {
  const items = (count: number, platform = 'android', prefix = 'bulk') =>
    Array.from({ length: count }, (_, i) => ({ token: `${prefix}-${platform}-${i}`, account: `acct-${i}`, platform }));

  it('needs the admin scope (403)', async () => {
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'openid', body: { items: items(2) } }));
    expect(answer.statusCode).toBe(403);
    expect(stack.tpns.requests()).toHaveLength(0);
    expect(ledgerWrites()).toBe(0);
  });

  it('applies up to one TPNS call per platform directly (200), and queues a read-back of every token', async () => {
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'tpns/admin', body: { items: [...items(20), ...items(5, 'ios')] } }));
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({ applied: 25, failed: [] });
    expect(stack.tpns.tokensOf('android', 'acct-19')).toEqual(['bulk-android-19']);
    expect(stack.tpns.tokensOf('ios', 'acct-4')).toEqual(['bulk-ios-4']);
    expect(batchCalls(stack.tpns, 2)).toHaveLength(2);
    const correlationId = (await queuedForToken(stack.sqs, 'bulk-ios-4'))[0]?.message.correlationId;
    const ours = (await queuedKeyMessages(stack.sqs)).filter(({ message }) => message.correlationId === correlationId);
    expect(ours.every(({ message }) => message.phase === 'verify')).toBe(true);
    const keys = ours.flatMap(({ message }) => (message.phase === 'record' ? [] : message.keys));
    expect(keys.map((key) => (key.kind === 'token' ? `${key.platform}:${key.token}` : key.account)).sort()).toEqual(
      [...items(20), ...items(5, 'ios')].map(({ platform, token }) => `${platform}:${token}`).sort(),
    );
    expect(ours.every(({ message }) => message.phase !== 'record' && message.keys.length <= 20)).toBe(true);
  });

  it('answers per-item permanent failures in `failed`, and lists the refused device as drift', async () => {
    stack.tpns.setInvalidTokens(['failing-android-1']);
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'tpns/admin', body: { items: items(3, 'android', 'failing') } }));
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({
      applied: 2,
      failed: [{ token: 'failing-android-1', platform: 'android', code: '1008006', message: expect.any(String) as string, retryable: false }],
    });
    const listed = (await invokeHttp(query, httpEvent('GET /v1/me/devices', { account: 'acct-1' }))).body.devices as { token: string; state: string }[];
    expect(listed.find((device) => device.token === 'failing-android-1')).toMatchObject({ state: 'drift' });
    // Only what TPNS took is read back.
    expect(await queuedForToken(stack.sqs, 'failing-android-1')).toEqual([]);
    expect(await queuedForToken(stack.sqs, 'failing-android-0')).toHaveLength(1);
  });

  it('records a bulk of more than one TPNS call per platform and queues it as push keys (202), calling nothing', async () => {
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'tpns/admin', body: { items: [...items(45, 'android', 'big'), ...items(3, 'ios', 'big')] } }));
    // 48 keys: three messages of <= 20 keys.
    expect(answer).toMatchObject({ statusCode: 202, body: { queued: 48, chunks: 3, applied: 0, failed: [] } });
    expect(stack.tpns.requests()).toHaveLength(0);
    const queued = await queuedForToken(stack.sqs, 'big-android-44');
    expect(queued.map(({ message }) => message.phase)).toEqual(['push']);
    expect(await invokeHttp(query, httpEvent('GET /v1/me/devices', { account: 'acct-44' }))).toMatchObject({
      body: { devices: expect.arrayContaining([expect.objectContaining({ token: 'big-android-44', state: 'pending' })]) as unknown },
    });
  });

  it('names the bad item of a bulk and calls nothing', async () => {
    const bad = items(30);
    bad[17] = { token: 'ok-token', account: 'a', platform: 'android' };
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'tpns/admin', body: { items: bad } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual([{ path: 'body.items.17.account', message: expect.stringMatching(/at least 2/) as string }]);
    expect(stack.tpns.requests()).toHaveLength(0);
    expect(ledgerWrites()).toBe(0);
  });

  it('refuses more than 10 000 items', async () => {
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'tpns/admin', body: { items: items(10_001) } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual([{ path: 'body.items', message: 'must hold at most 10000 items' }]);
  });
});

describe('EventBridge account.login', () => {
  it('binds the token of the event and queues its read-back under the event id', async () => {
    const answer = await handler(fixture('eventbridge-account-login'), lambdaContext());
    expect(answer).toEqual({ status: 200, body: { applied: 1, failed: [] } });
    expect(stack.tpns.accountsOf('android', TOKEN)).toEqual([{ account: 'user-1001', accountType: 0 }]);
    const ours = (await queuedForToken(stack.sqs, TOKEN, 'android')).filter(({ message }) => message.correlationId === 'login-7f3c2a');
    expect(ours.map(({ message }) => message)).toEqual([
      expect.objectContaining({ v: 2, phase: 'verify', keys: [{ kind: 'token', platform: 'android', token: TOKEN }] }),
    ]);
  });

  it('throws (so EventBridge retries) on an invalid event, naming the field, calling nothing', async () => {
    const event = fixture<{ detail: Record<string, unknown> }>('eventbridge-account-login');
    delete event.detail.platform;
    await expect(handler(event, lambdaContext())).rejects.toThrow(/detail\.platform: must be "android" or "ios"/);
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('throws (so EventBridge retries) when the ledger cannot record it, calling nothing', async () => {
    stack.dynamo.faults.add({ kind: 'InternalServerError' });
    await expect(handler(fixture('eventbridge-account-login'), lambdaContext())).rejects.toThrow(/ledger/);
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('refuses an event it is not wired for, saying what it expected', async () => {
    await expect(handler(fixture('eventbridge-account-logout'), lambdaContext())).rejects.toThrow(
      /expected an API Gateway HTTP API request .*"account\.login" event.*Cognito Post authentication trigger/,
    );
  });
});

describe('Cognito Post authentication trigger', () => {
  it('binds the device passed in clientMetadata and returns the event unchanged', async () => {
    const event = fixture('cognito-post-authentication');
    const result = await handler(structuredClone(event), lambdaContext());
    expect(result).toEqual(event);
    expect(stack.tpns.accountsOf('ios', TOKEN)).toEqual([{ account: COGNITO_USER, accountType: 0 }]);
  });

  it('binds nothing without pushToken/pushPlatform', async () => {
    const event = fixture<{ request: Record<string, unknown> }>('cognito-post-authentication');
    delete event.request.clientMetadata;
    expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    expect(stack.tpns.requests()).toHaveLength(0);
    expect(ledgerWrites()).toBe(0);
  });

  it('never fails the sign-in: TPNS down -> recorded and a push queued; queue down too -> still the event back', async () => {
    stack.tpns.injectFault({ kind: 'http500' });
    const event = fixture('cognito-post-authentication');
    const before = (await queuedForToken(stack.sqs, TOKEN, 'ios')).filter(({ message }) => message.phase === 'push').length;
    expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    expect((await queuedForToken(stack.sqs, TOKEN, 'ios')).filter(({ message }) => message.phase === 'push')).toHaveLength(before + 1);

    await withEnv(QUEUE_DOWN, async () => {
      expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    });
    const invalid = fixture<{ request: { clientMetadata: Record<string, string> } }>('cognito-post-authentication');
    invalid.request.clientMetadata.pushToken = 'not a token';
    expect(await handler(structuredClone(invalid), lambdaContext())).toEqual(invalid);
  });

  it('never fails the sign-in: TPNS up, queue down -> bound directly, and the event comes back', async () => {
    const event = fixture('cognito-post-authentication');
    await withEnv(QUEUE_DOWN, async () => {
      expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    });
    expect(stack.tpns.accountsOf('ios', TOKEN)).toEqual([{ account: COGNITO_USER, accountType: 0 }]);
  });

  it('queues a read-back of the binding when TPNS is up too', async () => {
    const event = fixture('cognito-post-authentication');
    const verifies = async () => (await queuedForToken(stack.sqs, TOKEN, 'ios')).filter(({ message }) => message.phase === 'verify').length;
    const before = await verifies();
    expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    expect(stack.tpns.accountsOf('ios', TOKEN)).toEqual([{ account: COGNITO_USER, accountType: 0 }]);
    expect(await verifies()).toBe(before + 1);
  });

  it('never fails the sign-in: ledger down -> the sign-in is queued with its acceptance version for the worker to record, no TPNS call', async () => {
    stack.dynamo.faults.add({ kind: 'InternalServerError' });
    const event = fixture('cognito-post-authentication');
    const acceptedFrom = Date.now() * 1000;
    expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    expect(stack.tpns.requests()).toHaveLength(0);
    const records = (await queuedForToken(stack.sqs, TOKEN, 'ios')).filter(({ message }) => message.phase === 'record');
    const last = records.at(-1)?.message;
    expect(last).toMatchObject({ v: 2, phase: 'record', signIns: [{ platform: 'ios', token: TOKEN, account: COGNITO_USER, v: expect.any(Number) as number }] });
    const v = last?.phase === 'record' ? last.signIns[0]!.v : 0;
    expect(v).toBeGreaterThanOrEqual(acceptedFrom);
    expect(v).toBeLessThanOrEqual(Date.now() * 1000 + 1);

    // Ledger and queue both down: still the event back.
    await withEnv(QUEUE_DOWN, async () => {
      expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    });
  });
});
