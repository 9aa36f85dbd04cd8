/**
 * The local API Gateway over real HTTP: route selection, the JWT authorizer's answers, the
 * payload 2.0 event a function receives and how its result becomes the response. The function
 * here records the event it was given, so each assertion is about what the host really built.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayHttpEvent } from '../../local/stack/api-gateway-event.js';
import { startHttpHost } from '../../local/stack/http-host.js';
import type { HttpHost } from '../../local/stack/http-host.js';
import { SignJWT } from 'jose';
import { DEV_ALGORITHM, DEV_AUDIENCE, DEV_ISSUER, DEV_SIGNING_SECRET, signDevToken } from '../../local/stack/jwt.js';
import { matchRoute } from '../../local/stack/routes.js';
import type { HttpApiRoute } from '../../local/stack/routes.js';
import { httpApiRoutes, readServerlessConfig } from '../../local/serverless-config.js';

const route = (method: string, path: string, functionName: string): HttpApiRoute => ({
  functionName,
  handler: `functions/${functionName}.handler`,
  method,
  path,
  authorizer: { name: 'jwt', scopes: [] },
  timeoutSeconds: 1,
  memoryMb: 256,
});

const routes: HttpApiRoute[] = [
  route('PUT', '/v1/me/devices/{token}', 'echo'),
  route('GET', '/v1/me/devices', 'echo'),
  route('POST', '/v1/admin/bindings', 'echo'),
  route('GET', '/v1/results/{kind}', 'result'),
  { ...route('GET', '/v1/scoped', 'echo'), authorizer: { name: 'jwt', scopes: ['tpns/admin'] } },
  { ...route('GET', '/v1/public', 'echo'), authorizer: undefined },
  { ...route('GET', '/v1/slow', 'slow'), timeoutSeconds: 0.2 },
  route('GET', '/v1/throws', 'throws'),
];

/** What each function gives back for GET /v1/results/{kind}. */
const results: Record<string, unknown> = {
  structured: { statusCode: 201, headers: { 'X-Custom': 7 }, body: '{"ok":true}', cookies: ['a=1'] },
  plainObject: { hello: 'world' },
  plainString: 'just text',
  base64: { statusCode: 200, body: Buffer.from('bytes!').toString('base64'), isBase64Encoded: true },
  badStatus: { statusCode: 'two hundred' },
};

let host: HttpHost;
let invocations: GatewayHttpEvent[] = [];
const errors: unknown[] = [];

beforeAll(async () => {
  host = await startHttpHost({
    routes,
    port: 0,
    onError: (error) => errors.push(error),
    resolveFunction: (matched) => {
      const functions: Record<string, (event: GatewayHttpEvent) => Promise<unknown>> = {
        echo: (event) => {
          invocations.push(event);
          return Promise.resolve({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' });
        },
        result: (event) => Promise.resolve(results[event.pathParameters?.kind ?? '']),
        slow: () => new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
        throws: () => Promise.reject(new Error('boom')),
      };
      const fn = functions[matched.functionName];
      if (!fn) throw new Error(`no test function ${matched.functionName}`);
      return Promise.resolve(fn);
    },
  });
});

afterAll(() => host.close());

beforeEach(() => {
  invocations = [];
  errors.length = 0;
});

async function call(method: string, path: string, init: { token?: string; body?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(`${host.url}${path}`, { method, headers, ...(init.body === undefined ? {} : { body: init.body }) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('routing', () => {
  it('binds to loopback only', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers 404 {"message":"Not Found"} for an unknown path or method, without invoking anything', async () => {
    const token = await signDevToken('alice');
    for (const [method, path] of [['GET', '/nope'], ['DELETE', '/v1/admin/bindings'], ['GET', '/v1/me/devices/x/y']] as const) {
      const response = await call(method, path, { token });
      expect(response.status).toBe(404);
      expect(JSON.parse(response.text)).toEqual({ message: 'Not Found' });
    }
    expect(invocations).toHaveLength(0);
  });
});

describe('JWT authorizer', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a token that is not a JWT', 'not-a-jwt'],
  ])('answers 401 for %s', async (_, token) => {
    const response = await call('GET', '/v1/me/devices', token === undefined ? {} : { token });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text)).toEqual({ message: 'Unauthorized' });
    expect(invocations).toHaveLength(0);
  });

  it('answers 401 for an expired token, naming the reason in WWW-Authenticate', async () => {
    const expired = await signDevToken('alice', { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const response = await call('GET', '/v1/me/devices', { token: expired });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('expired');
    expect(invocations).toHaveLength(0);
  });

  it.each([
    ['signed with another key', { key: new TextEncoder().encode('some other key, long enough for HS256') }],
    ['from another issuer', { issuer: 'https://elsewhere.example/' }],
    ['for another audience', { audience: 'another-api' }],
    ['without an expiry', { expires: false }],
  ])('answers 401 for a token %s', async (_, forged: { key?: Uint8Array; issuer?: string; audience?: string; expires?: boolean }) => {
    let jwt = new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: DEV_ALGORITHM })
      .setIssuer(forged.issuer ?? DEV_ISSUER)
      .setAudience(forged.audience ?? DEV_AUDIENCE);
    if (forged.expires !== false) jwt = jwt.setExpirationTime('5m');
    const response = await call('GET', '/v1/me/devices', { token: await jwt.sign(forged.key ?? DEV_SIGNING_SECRET) });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text)).toEqual({ message: 'Unauthorized' });
    expect(invocations).toHaveLength(0);
  });

  it('answers 403 {"message":"Forbidden"} when the route requires a scope the token lacks', async () => {
    const response = await call('GET', '/v1/scoped', { token: await signDevToken('alice') });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.text)).toEqual({ message: 'Forbidden' });
    const admin = await call('GET', '/v1/scoped', { token: await signDevToken('alice', { admin: true }) });
    expect(admin.status).toBe(200);
    expect(invocations[0]?.requestContext.authorizer?.jwt.scopes).toEqual(['tpns/admin']);
  });

  it('lets a route without an authorizer through with no authorizer context', async () => {
    expect((await call('GET', '/v1/public')).status).toBe(200);
    expect(invocations[0]?.requestContext.authorizer).toBeUndefined();
  });
});

describe('the payload 2.0 event', () => {
  it('carries route, path and query parameters, lower-cased headers, cookies, body and string claims', async () => {
    const token = await signDevToken('alice', { admin: true });
    const response = await call('PUT', '/v1/me/devices/tok%2Dabc?x=1&x=2&y=', {
      token,
      body: '{"platform":"ios"}',
      headers: { 'Content-Type': 'application/json', 'X-Trace': 'abc', cookie: 'c1=v1; c2=v2', 'user-agent': 'vitest' },
    });
    expect(response.status).toBe(200);
    const event = invocations[0];
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'PUT /v1/me/devices/{token}',
      rawPath: '/v1/me/devices/tok%2Dabc',
      rawQueryString: 'x=1&x=2&y=',
      queryStringParameters: { x: '1,2', y: '' },
      pathParameters: { token: 'tok-abc' },
      cookies: ['c1=v1', 'c2=v2'],
      body: '{"platform":"ios"}',
      isBase64Encoded: false,
      requestContext: {
        apiId: 'local',
        routeKey: 'PUT /v1/me/devices/{token}',
        stage: '$default',
        http: { method: 'PUT', path: '/v1/me/devices/tok%2Dabc', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
        authorizer: { jwt: { scopes: null, claims: { sub: 'alice', scope: 'tpns/admin', iss: DEV_ISSUER, aud: DEV_AUDIENCE } } },
      },
    });
    expect(event?.headers).toMatchObject({ 'content-type': 'application/json', 'x-trace': 'abc' });
    expect(event?.headers.cookie).toBeUndefined();
    expect(typeof event?.requestContext.authorizer?.jwt.claims.exp).toBe('string');
    expect(event?.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(response.headers.get('apigw-requestid')).toBe(event?.requestContext.requestId);
  });

  it('gives each request its own requestId and omits absent parts', async () => {
    const token = await signDevToken('bob');
    await call('GET', '/v1/me/devices', { token });
    await call('GET', '/v1/me/devices', { token });
    const [first, second] = invocations;
    expect(first?.requestContext.requestId).not.toBe(second?.requestContext.requestId);
    expect(first).not.toHaveProperty('body');
    expect(first).not.toHaveProperty('pathParameters');
    expect(first).not.toHaveProperty('queryStringParameters');
  });
});

describe('results to responses', () => {
  const token = () => signDevToken('alice');

  it('uses statusCode, headers, cookies and body of a structured result', async () => {
    const response = await call('GET', '/v1/results/structured', { token: await token() });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-custom')).toBe('7');
    expect(response.headers.get('set-cookie')).toBe('a=1');
    expect(response.text).toBe('{"ok":true}');
  });

  it('answers 200 application/json for an object without statusCode and for a string', async () => {
    const object = await call('GET', '/v1/results/plainObject', { token: await token() });
    expect(object.status).toBe(200);
    expect(object.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(object.text)).toEqual({ hello: 'world' });
    const text = await call('GET', '/v1/results/plainString', { token: await token() });
    expect(text.text).toBe('just text');
  });

  it('decodes a base64 body', async () => {
    expect((await call('GET', '/v1/results/base64', { token: await token() })).text).toBe('bytes!');
  });

  it.each([['/v1/results/badStatus'], ['/v1/throws'], ['/v1/slow']])(
    'answers 500 {"message":"Internal Server Error"} for %s (malformed result, throw, timeout)',
    async (path) => {
      const response = await call('GET', path, { token: await token() });
      expect(response.status).toBe(500);
      expect(JSON.parse(response.text)).toEqual({ message: 'Internal Server Error' });
      expect(errors).toHaveLength(1);
    },
  );
});

describe('the routes of serverless.yml', () => {
  it('are the product spec\'s HTTP routes, each with the JWT authorizer and the admin scope on /v1/admin/*', () => {
    const served = httpApiRoutes(readServerlessConfig()).map((entry) => ({
      routeKey: `${entry.method} ${entry.path}`,
      functionName: entry.functionName,
      scopes: entry.authorizer?.scopes,
    }));
    const admin = ['tpns/admin'];
    expect(served).toEqual(
      expect.arrayContaining([
        { routeKey: 'PUT /v1/me/devices/{token}', functionName: 'login', scopes: [] },
        { routeKey: 'POST /v1/admin/bindings', functionName: 'bulkBind', scopes: admin },
        { routeKey: 'DELETE /v1/me/devices/{token}', functionName: 'logout', scopes: [] },
        { routeKey: 'POST /v1/admin/unbind-tokens', functionName: 'bulkUnbindTokens', scopes: admin },
        { routeKey: 'DELETE /v1/me', functionName: 'deleteAccount', scopes: [] },
        { routeKey: 'POST /v1/admin/delete-accounts', functionName: 'bulkDeleteAccounts', scopes: admin },
        { routeKey: 'GET /v1/me/devices', functionName: 'query', scopes: [] },
        { routeKey: 'GET /v1/admin/erasures/{account}', functionName: 'query', scopes: admin },
      ]),
    );
    expect(served).toHaveLength(8);
  });

  it('selects the literal route over a parameter and the exact method over ANY', () => {
    const table: HttpApiRoute[] = [route('*', '/v1/{proxy+}', 'any'), route('GET', '/v1/me/{thing}', 'param'), route('GET', '/v1/me/devices', 'literal')];
    expect(matchRoute(table, 'GET', '/v1/me/devices')?.route.functionName).toBe('literal');
    expect(matchRoute(table, 'GET', '/v1/me/other')).toMatchObject({ routeKey: 'GET /v1/me/{thing}', pathParameters: { thing: 'other' } });
    expect(matchRoute(table, 'POST', '/v1/me/devices/x')).toMatchObject({ routeKey: 'ANY /v1/{proxy+}', pathParameters: { proxy: 'me/devices/x' } });
    expect(matchRoute(table, 'GET', '/v2/me')).toBeUndefined();
  });
});
