/**
 * Request size limits on every route (413 before anything parses the body) and the spec's
 * 10 000-item cap on admin bulks (10 000 accepted, 10 001 refused).
 */
import { describe, expect, it } from 'vitest';
import { handler as deleteAccount } from '../../functions/delete-account.js';
import { handler as login } from '../../functions/login.js';
import { handler as logout } from '../../functions/logout.js';
import { handler as query } from '../../functions/query.js';
import { ADMIN_BODY_LIMIT_BYTES, USER_BODY_LIMIT_BYTES } from '../../functions/handler/http.js';
import { MAX_BULK_ITEMS } from '../../lib/commands/schemas.js';
import { createLambdaContext } from '../../local/stack/lambda-context.js';
import { httpEvent, invokeHttp } from '../integration/functions/harness.js';
import type { HttpRequest } from '../integration/functions/harness.js';
import { useStack } from '../support/use-stack.js';
import type { Stack } from '../support/stack.js';

const ADMIN_SCOPE = 'tpns/admin';

let stack: Stack;
useStack((started) => (stack = started), { emulator: { env: {} } });

type Handler = typeof login;
const routes: [Handler, string, HttpRequest, number][] = [
  [login, 'PUT /v1/me/devices/{token}', { account: 'limit-user', pathParameters: { token: 'limittoken01' } }, USER_BODY_LIMIT_BYTES],
  [logout, 'DELETE /v1/me/devices/{token}', { account: 'limit-user', pathParameters: { token: 'limittoken01' }, query: { platform: 'ios' } }, USER_BODY_LIMIT_BYTES],
  [deleteAccount, 'DELETE /v1/me', { account: 'limit-user' }, USER_BODY_LIMIT_BYTES],
  [query, 'GET /v1/me/devices', { account: 'limit-user' }, USER_BODY_LIMIT_BYTES],
  [query, 'GET /v1/admin/erasures/{account}', { account: 'ops', scope: ADMIN_SCOPE, pathParameters: { account: 'limit-user' } }, USER_BODY_LIMIT_BYTES], // reads no body: no megabytes
  [login, 'POST /v1/admin/bindings', { account: 'ops', scope: ADMIN_SCOPE }, ADMIN_BODY_LIMIT_BYTES],
  [logout, 'POST /v1/admin/unbind-tokens', { account: 'ops', scope: ADMIN_SCOPE }, ADMIN_BODY_LIMIT_BYTES],
  [deleteAccount, 'POST /v1/admin/delete-accounts', { account: 'ops', scope: ADMIN_SCOPE }, ADMIN_BODY_LIMIT_BYTES],
];

describe('request size limits', () => {
  it.each(routes.map(([handler, routeKey, request, limit]) => [routeKey, handler, request, limit] as const))(
    '%s refuses a body one byte over its limit with 413',
    async (_routeKey, handler, request, limit) => {
      const padding = 'x'.repeat(limit - '{"pad":""}'.length + 1);
      const answer = await invokeHttp(handler, httpEvent(_routeKey, { ...request, body: `{"pad":"${padding}"}` }));
      expect(answer.statusCode).toBe(413);
      expect(answer.body.error).toContain(String(limit));
      expect(stack.tpns.requests()).toEqual([]);
    },
  );
});

/**
 * Recording 10 000 sign-outs is 10 000 conditional UpdateItems: against dynalite in this process
 * that takes ~20 s (about 1 ms of SDK CPU per write on the client side alone), past the 10 s the
 * harness's Lambda context (serverless.yml's API timeout) allows. This test is about the limit, so
 * it gives the handler a minute; the time a full bulk takes is bench/ and docs/performance.md's.
 */
const invokeLong = async (handler: Handler, event: unknown) => {
  const result = (await handler(event, createLambdaContext('limits', 60))) as { statusCode: number; body: string };
  return { statusCode: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
};

describe('admin bulks are capped at the spec limit', () => {
  const tokens = (n: number) => Array.from({ length: n }, (_, i) => `capped-${String(i).padStart(5, '0')}`);

  it(`accepts ${MAX_BULK_ITEMS} items (queued) and refuses ${MAX_BULK_ITEMS + 1} naming the list`, { timeout: 120_000 }, async () => {
    const accepted = await invokeLong(logout, httpEvent('POST /v1/admin/unbind-tokens', { account: 'ops', scope: ADMIN_SCOPE, body: { platform: 'android', tokens: tokens(MAX_BULK_ITEMS) } }));
    expect(accepted.statusCode).toBe(202);
    expect(accepted.body).toMatchObject({ queued: MAX_BULK_ITEMS, chunks: MAX_BULK_ITEMS / 20 });

    const refused = await invokeHttp(logout, httpEvent('POST /v1/admin/unbind-tokens', { account: 'ops', scope: ADMIN_SCOPE, body: { platform: 'android', tokens: tokens(MAX_BULK_ITEMS + 1) } }));
    expect(refused.statusCode).toBe(400);
    expect(refused.body.issues).toEqual([expect.objectContaining({ path: 'body.tokens', message: expect.stringContaining(String(MAX_BULK_ITEMS)) })]);
    expect(stack.tpns.requests()).toEqual([]);
    expect((await stack.sqs.depth()).queued).toBe(MAX_BULK_ITEMS / 20);
  });
});
