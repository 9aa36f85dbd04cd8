/**
 * Test harness for the handlers: the one test stack (test/support/stack.ts: TPNS emulator,
 * fauxqs, dynalite behind its fault proxy) with process.env pointing the functions at it, and
 * realistic events built from test/fixtures.
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { handler as deleteAccount } from '../../../functions/delete-account.js';
import { handler as login } from '../../../functions/login.js';
import { handler as logout } from '../../../functions/logout.js';
import { resetRuntimeForTests } from '../../../lib/config/runtime.js';
import { keyMessageSchema } from '../../../lib/queue/messages.js';
import type { KeyMessage } from '../../../lib/queue/messages.js';
import type { InspectedMessage, LocalSqs } from '../../../local/sqs/fauxqs.js';
import { createLambdaContext } from '../../../local/stack/lambda-context.js';

export const fixture = <T = Record<string, unknown>>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${name}.json`, import.meta.url), 'utf8')) as T;


/** Runs `body` with some environment variables changed and a fresh runtime, then restores both. */
export async function withEnv(changes: Record<string, string>, body: () => Promise<void>): Promise<void> {
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

/**
 * Nothing listens on port 9. The queue URL moves too: the SQS client sends to the host of the
 * QueueUrl, so AWS_ENDPOINT_URL_SQS alone would not take the queue away.
 */
export const QUEUE_DOWN = { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9', BINDING_QUEUE_URL: 'http://127.0.0.1:9/000000000000/unreachable' };

export const lambdaContext = (): Context => createLambdaContext('test', 10);

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Invokes an HTTP handler and parses its JSON answer. */
export async function invokeHttp(handler: Handler, event: unknown): Promise<HttpResult> {
  const result = (await handler(event, lambdaContext())) as { statusCode: number; headers: Record<string, string>; body: string };
  return { statusCode: result.statusCode, headers: result.headers, body: JSON.parse(result.body) as Record<string, unknown> };
}

export interface HttpRequest {
  /** The account claim (`sub`); null: no claims at all (no verified JWT). */
  account?: string | null;
  scope?: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  contentType?: string;
}

let requestCounter = 0;

/** An API Gateway HTTP API v2 event (JWT authorizer) for `routeKey`, shaped like the recorded fixture. */
export function httpEvent(routeKey: string, request: HttpRequest = {}): Record<string, unknown> {
  const base = fixture<Record<string, unknown> & { headers: Record<string, string>; requestContext: Record<string, unknown> }>(
    'http-api-v2-put-device',
  );
  const [method = 'GET', template = '/'] = routeKey.split(' ');
  const pathParameters = request.pathParameters ?? {};
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathParameters[name] ?? ''));
  const account = request.account === undefined ? 'user-1001' : request.account;
  const claims = { ...((base.requestContext.authorizer as { jwt: { claims: Record<string, string> } }).jwt.claims) };
  if (account === null) delete claims.sub;
  else claims.sub = account;
  if (request.scope !== undefined) claims.scope = request.scope;
  const body = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  const headers = { ...base.headers };
  delete headers['content-length'];
  if (body === undefined) delete headers['content-type'];
  else headers['content-type'] = request.contentType ?? 'application/json';
  requestCounter += 1;
  return {
    ...base,
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(request.query ?? {}).toString(),
    headers,
    requestContext: {
      ...base.requestContext,
      routeKey,
      requestId: `req-${process.pid}-${requestCounter}-${Date.now()}`,
      http: { ...(base.requestContext.http as object), method, path },
      authorizer: account === null ? undefined : { jwt: { claims, scopes: null } },
    },
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : { pathParameters: undefined }),
    ...(request.query ? { queryStringParameters: request.query } : {}),
    ...(body === undefined ? { body: undefined } : { body }),
  };
}

type Platform = 'android' | 'ios';

/** A user's sign-in, as API Gateway invokes the login function (the account is the JWT's). */
export const httpSignIn = (account: string, token: string, platform: Platform = 'android', accountType?: number) =>
  invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', {
    account,
    pathParameters: { token },
    body: { platform, ...(accountType === undefined ? {} : { accountType }) },
  }));

/** A user's sign-out of one device. */
export const httpSignOut = (account: string, token: string, platform: Platform = 'android') =>
  invokeHttp(logout, httpEvent('DELETE /v1/me/devices/{token}', { account, pathParameters: { token }, query: { platform } }));

/** A user deleting their own account. */
export const httpDeleteMe = (account: string) => invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account }));

/** A v2 key message waiting in the binding queue, as fauxqs holds it. */
export interface QueuedKeyMessage extends Omit<InspectedMessage, 'body' | 'inFlight'> {
  message: KeyMessage;
}

/** The binding queue's waiting messages, ready and delayed (not those a worker has received), parsed as v2 key messages; any other body throws. */
export async function queuedKeyMessages(sqs: LocalSqs): Promise<QueuedKeyMessage[]> {
  return (await sqs.messages('binding'))
    .filter(({ inFlight }) => !inFlight)
    .map(({ body, sentAt, delaySeconds }) => ({ message: keyMessageSchema.parse(JSON.parse(body)), sentAt, delaySeconds }));
}

/** The queued messages that name this token (push and verify phases), oldest first. */
export async function queuedForToken(sqs: LocalSqs, token: string, platform?: 'android' | 'ios'): Promise<QueuedKeyMessage[]> {
  return (await queuedKeyMessages(sqs))
    .filter(({ message }) =>
      message.phase === 'record'
        ? message.signIns.some((signIn) => signIn.token === token && (platform === undefined || signIn.platform === platform))
        : message.keys.some((key) => key.kind === 'token' && key.token === token && (platform === undefined || key.platform === platform)),
    )
    .sort((a, b) => a.sentAt - b.sentAt);
}

/** The queued messages that name this account's erasure. */
export async function queuedForErasure(sqs: LocalSqs, account: string): Promise<QueuedKeyMessage[]> {
  return (await queuedKeyMessages(sqs)).filter(
    ({ message }) => message.phase !== 'record' && message.keys.some((key) => key.kind === 'erasure' && key.account === account),
  );
}
