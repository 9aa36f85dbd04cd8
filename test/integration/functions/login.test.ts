import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetRuntimeForTests } from '../../../lib/config/runtime.js';
import { handler } from '../../../functions/login.js';
import { batchCalls, fixture, httpEvent, invokeHttp, lambdaContext, queuedInGroup, queuedMessages, startStack } from './harness.js';
import type { Stack } from './harness.js';

const TOKEN = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const ROUTE = 'PUT /v1/me/devices/{token}';
const BULK = 'POST /v1/admin/bindings';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());
beforeEach(() => stack.tpns.reset());

/** Runs `body` with some environment variables changed and a fresh runtime, then restores both. */
async function withEnv(changes: Record<string, string>, body: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(changes).map((name) => [name, process.env[name]]));
  Object.assign(process.env, changes);
  resetRuntimeForTests();
  try {
    await body();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetRuntimeForTests();
  }
}

describe('PUT /v1/me/devices/{token}', () => {
  it('binds the token to the account of the verified JWT (op 2) and answers 200', async () => {
    const answer = await invokeHttp(handler, fixture('http-api-v2-put-device'));
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({ applied: 1, failed: [] });
    expect(stack.tpns.accountsOf('android', TOKEN)).toEqual([{ account: 'auth0|5f7c8ec7c33c6c004bbafe82', accountType: 0 }]);
    expect(batchCalls(stack.tpns, 2)).toHaveLength(1);
  });

  it('also queues the same op 2 in the token\'s FIFO group, as the confirmation that keeps the order per token', async () => {
    const token = 'tok-confirmed-1';
    const answer = await invokeHttp(handler, httpEvent(ROUTE, { account: 'confirmed-1', pathParameters: { token }, body: { platform: 'ios', accountType: 2 } }));
    expect(answer).toMatchObject({ statusCode: 200, body: { applied: 1, failed: [] } }); // applied: no `queued` in the answer
    expect(await queuedInGroup(stack.sqs, `t:${token}`)).toEqual([
      expect.objectContaining({ v: 1, kind: 'bind', platform: 'ios', items: [{ token, account: 'confirmed-1', accountType: 2 }] }),
    ]);
    expect(batchCalls(stack.tpns, 2)).toHaveLength(1);
  });

  it('answers 503 with Retry-After when TPNS applied the sign-in but its confirmation cannot be queued (retry is safe)', async () => {
    const token = 'tok-unconfirmed-1';
    await withEnv({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9' }, async () => {
      const answer = await invokeHttp(handler, httpEvent(ROUTE, { account: 'unconfirmed-1', pathParameters: { token }, body: { platform: 'android' } }));
      expect(answer.statusCode).toBe(503);
      expect(Number(answer.headers['Retry-After'])).toBeGreaterThan(0);
    });
    // Bound now, but without its queued copy an older queued sign-in could still take the device back.
    expect(stack.tpns.accountsOf('android', token)).toEqual([{ account: 'unconfirmed-1', accountType: 0 }]);
    expect(await queuedInGroup(stack.sqs, `t:${token}`)).toEqual([]);
  });

  it('overwrites the previous account of a shared device', async () => {
    const put = (account: string) =>
      invokeHttp(handler, httpEvent(ROUTE, { account, pathParameters: { token: TOKEN }, body: { platform: 'ios', accountType: 3 } }));
    await put('alice-01');
    expect((await put('bob-02')).statusCode).toBe(200);
    expect(stack.tpns.accountsOf('ios', TOKEN)).toEqual([{ account: 'bob-02', accountType: 3 }]);
  });

  it.each([
    ['a token with a space', { pathParameters: { token: 'has space' }, body: { platform: 'android' } }, 'path.token'],
    ['a token of 65 characters', { pathParameters: { token: 'x'.repeat(65) }, body: { platform: 'android' } }, 'path.token'],
    ['an unknown platform', { pathParameters: { token: TOKEN }, body: { platform: 'web' } }, 'body.platform'],
    ['a missing platform', { pathParameters: { token: TOKEN }, body: {} }, 'body.platform'],
    ['a negative accountType', { pathParameters: { token: TOKEN }, body: { platform: 'ios', accountType: -1 } }, 'body.accountType'],
    ['an account in the body', { pathParameters: { token: TOKEN }, body: { platform: 'ios', account: 'someone-else' } }, 'body'],
    ['a one-character account claim', { account: 'x', pathParameters: { token: TOKEN }, body: { platform: 'ios' } }, 'account'],
    ['a body that is not JSON', { pathParameters: { token: TOKEN }, body: '{"platform":' }, 'body'],
  ])('refuses %s with 400 naming the field, calling nothing', async (_, request, path) => {
    const answer = await invokeHttp(handler, httpEvent(ROUTE, request));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('answers 401 without verified claims, 413 for an oversized body, 415 for a non-JSON content type', async () => {
    const noJwt = await invokeHttp(handler, httpEvent(ROUTE, { account: null, pathParameters: { token: TOKEN }, body: { platform: 'ios' } }));
    expect(noJwt.statusCode).toBe(401);
    const huge = { platform: 'ios', padding: 'x'.repeat(5000) };
    expect((await invokeHttp(handler, httpEvent(ROUTE, { pathParameters: { token: TOKEN }, body: huge }))).statusCode).toBe(413);
    const form = httpEvent(ROUTE, { pathParameters: { token: TOKEN }, body: 'platform=ios', contentType: 'application/x-www-form-urlencoded' });
    expect((await invokeHttp(handler, form)).statusCode).toBe(415);
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('answers 400 naming a platform this deployment has no credentials for', async () => {
    await withEnv({ TPNS_IOS_ACCESS_ID: '', TPNS_IOS_SECRET_KEY: '' }, async () => {
      const answer = await invokeHttp(handler, httpEvent(ROUTE, { pathParameters: { token: TOKEN }, body: { platform: 'ios' } }));
      expect(answer.statusCode).toBe(400);
      expect(answer.body.error).toMatch(/"ios" is not configured/);
      expect(stack.tpns.requests()).toHaveLength(0);
    });
  });

  it('queues a sign-in TPNS keeps failing (202), without losing it', async () => {
    stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    const before = (await stack.sqs.depth()).queued;
    const answer = await invokeHttp(handler, httpEvent(ROUTE, { account: 'queued-1', pathParameters: { token: 'tok-queued-1' }, body: { platform: 'android' } }));
    expect(answer.statusCode).toBe(202);
    expect(answer.body).toMatchObject({ queued: 1, chunks: 1, applied: 0, failed: [] });
    expect(batchCalls(stack.tpns).length).toBeGreaterThan(1); // retried within the budget first
    expect((await stack.sqs.depth()).queued).toBe(before + 1); // one copy: the queued one is the only one
    expect(await queuedInGroup(stack.sqs, 't:tok-queued-1')).toEqual([expect.objectContaining({ kind: 'bind', items: [{ token: 'tok-queued-1', account: 'queued-1' }] })]);
  });

  it('cuts a hanging TPNS call off at the direct deadline and queues the sign-in', async () => {
    stack.tpns.injectFault({ kind: 'latency', latencyMs: 8_000, path: 'batchoperate' });
    const before = (await stack.sqs.depth()).queued;
    const answer = await invokeHttp(handler, httpEvent(ROUTE, { account: 'slow-1', pathParameters: { token: 'tok-slow-1' }, body: { platform: 'ios' } }));
    expect(answer.statusCode).toBe(202);
    expect(answer.body).toMatchObject({ queued: 1, chunks: 1 });
    expect((await stack.sqs.depth()).queued).toBe(before + 1);
  });

  it('answers 503 with Retry-After when neither TPNS nor the queue can take the work', async () => {
    stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    await withEnv({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9' }, async () => {
      const answer = await invokeHttp(handler, httpEvent(ROUTE, { pathParameters: { token: TOKEN }, body: { platform: 'android' } }));
      expect(answer.statusCode).toBe(503);
      expect(Number(answer.headers['Retry-After'])).toBeGreaterThan(0);
      expect(JSON.stringify(answer.body)).not.toMatch(/stack|at .*\.ts/);
    });
  });
});

describe('POST /v1/admin/bindings', () => {
  const items = (count: number, platform = 'android') =>
    Array.from({ length: count }, (_, i) => ({ token: `bulk-${platform}-${i}`, account: `acct-${i}`, platform }));

  it('needs the admin scope (403)', async () => {
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'openid', body: { items: items(2) } }));
    expect(answer.statusCode).toBe(403);
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('applies up to one TPNS call per platform directly (200), each binding confirmed in its token\'s group', async () => {
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'tpns/admin', body: { items: [...items(20), ...items(5, 'ios')] } }));
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({ applied: 25, failed: [] });
    expect(stack.tpns.tokensOf('android', 'acct-19')).toEqual(['bulk-android-19']);
    expect(stack.tpns.tokensOf('ios', 'acct-4')).toEqual(['bulk-ios-4']);
    expect(batchCalls(stack.tpns, 2)).toHaveLength(2);
    const confirmations = (await queuedMessages(stack.sqs)).filter(({ groupId }) => groupId.startsWith('t:bulk-'));
    expect(confirmations).toHaveLength(25);
    for (const { groupId, message } of confirmations) {
      expect(message.kind === 'bind' && message.items.map((item) => `t:${item.token}`)).toEqual([groupId]);
    }
  });

  it('answers per-item permanent failures in `failed`', async () => {
    stack.tpns.setInvalidTokens(['bulk-android-1']);
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'tpns/admin', body: { items: items(3) } }));
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({
      applied: 2,
      failed: [{ token: 'bulk-android-1', platform: 'android', code: '1008006', message: expect.any(String) as string, retryable: false }],
    });
  });

  it('names the bad item of a bulk and calls nothing', async () => {
    const bad = items(30);
    bad[17] = { token: 'ok-token', account: 'a', platform: 'android' };
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'tpns/admin', body: { items: bad } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual([{ path: 'body.items.17.account', message: expect.stringMatching(/at least 2/) as string }]);
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('refuses more than 10 000 items', async () => {
    const answer = await invokeHttp(handler, httpEvent(BULK, { scope: 'tpns/admin', body: { items: items(10_001) } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual([{ path: 'body.items', message: 'must hold at most 10000 items' }]);
  });
});

describe('EventBridge account.login', () => {
  it('binds the token of the event', async () => {
    const answer = await handler(fixture('eventbridge-account-login'), lambdaContext());
    expect(answer).toEqual({ status: 200, body: { applied: 1, failed: [] } });
    expect(stack.tpns.accountsOf('android', TOKEN)).toEqual([{ account: 'user-1001', accountType: 0 }]);
    const copies = (await queuedInGroup(stack.sqs, `t:${TOKEN}`)).filter((message) => message.correlationId === 'login-7f3c2a');
    expect(copies).toEqual([expect.objectContaining({ kind: 'bind', items: [{ token: TOKEN, account: 'user-1001', accountType: 0 }] })]);
  });

  it('throws (so EventBridge retries) on an invalid event, naming the field, calling nothing', async () => {
    const event = fixture<{ detail: Record<string, unknown> }>('eventbridge-account-login');
    delete event.detail.platform;
    await expect(handler(event, lambdaContext())).rejects.toThrow(/detail\.platform: must be "android" or "ios"/);
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
    expect(stack.tpns.accountsOf('ios', TOKEN)).toEqual([{ account: 'f4c8e4a2-7b1d-4e6f-9a3c-2d5e8f1a6b7c', accountType: 0 }]);
  });

  it('binds nothing without pushToken/pushPlatform', async () => {
    const event = fixture<{ request: Record<string, unknown> }>('cognito-post-authentication');
    delete event.request.clientMetadata;
    expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    expect(stack.tpns.requests()).toHaveLength(0);
  });

  it('never fails the sign-in: TPNS down -> queued; queue down too -> still the event back', async () => {
    stack.tpns.injectFault({ kind: 'http500' });
    const event = fixture('cognito-post-authentication');
    const before = (await stack.sqs.depth()).queued;
    expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    expect((await stack.sqs.depth()).queued).toBe(before + 1);

    await withEnv({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9' }, async () => {
      expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    });
    const invalid = fixture<{ request: { clientMetadata: Record<string, string> } }>('cognito-post-authentication');
    invalid.request.clientMetadata.pushToken = 'not a token';
    expect(await handler(structuredClone(invalid), lambdaContext())).toEqual(invalid);
  });

  it('never fails the sign-in: TPNS up, queue down -> bound directly, and the event comes back', async () => {
    const event = fixture('cognito-post-authentication');
    await withEnv({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9' }, async () => {
      expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    });
    expect(stack.tpns.accountsOf('ios', TOKEN)).toEqual([{ account: 'f4c8e4a2-7b1d-4e6f-9a3c-2d5e8f1a6b7c', accountType: 0 }]);
  });

  it('queues its copy of the binding when TPNS is up too', async () => {
    const event = fixture('cognito-post-authentication');
    const before = (await stack.sqs.depth()).queued;
    expect(await handler(structuredClone(event), lambdaContext())).toEqual(event);
    expect(stack.tpns.accountsOf('ios', TOKEN)).toEqual([{ account: 'f4c8e4a2-7b1d-4e6f-9a3c-2d5e8f1a6b7c', accountType: 0 }]);
    expect((await stack.sqs.depth()).queued).toBe(before + 1);
  });
});
