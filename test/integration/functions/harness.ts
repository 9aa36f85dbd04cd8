/**
 * Test harness for the handlers: the real TPNS emulator and a real SQS emulator (fauxqs), the
 * environment a deployed function would get, and realistic events built from test/fixtures.
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { resetRuntimeForTests } from '../../../lib/config/runtime.js';
import type { WorkMessage } from '../../../lib/queue/messages.js';
import { startLocalSqs } from '../../../local/sqs/fauxqs.js';
import type { LocalSqs } from '../../../local/sqs/fauxqs.js';
import { createLambdaContext } from '../../../local/stack/lambda-context.js';
import { startTpnsEmulator } from '../../../local/tpns-emulator/index.js';
import type { TpnsEmulator } from '../../../local/tpns-emulator/index.js';

export const fixture = <T = Record<string, unknown>>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${name}.json`, import.meta.url), 'utf8')) as T;

export interface Stack {
  tpns: TpnsEmulator;
  sqs: LocalSqs;
  close(): Promise<void>;
}

/** Both emulators, and process.env pointing the functions at them (as serverless.yml's environment does). */
export async function startStack(options: { queueAttributes?: Record<string, string> } = {}): Promise<Stack> {
  const tpns = await startTpnsEmulator();
  const sqs = await startLocalSqs(options.queueAttributes ? { queueAttributes: options.queueAttributes } : {});
  Object.assign(process.env, {
    ...tpns.env,
    ...sqs.env,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  resetRuntimeForTests();
  return {
    tpns,
    sqs,
    close: async () => {
      resetRuntimeForTests();
      await Promise.all([tpns.close(), sqs.close()]);
    },
  };
}

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

/** Calls TPNS received, by operator type, on batchoperate. */
export const batchCalls = (tpns: TpnsEmulator, operatorType?: number) =>
  tpns.requests().filter((entry) => entry.path.endsWith('batchoperate') && (operatorType === undefined || entry.operatorType === operatorType));

/** A message waiting in the binding queue, as fauxqs holds it. */
export interface QueuedMessage {
  groupId: string;
  message: WorkMessage;
}

/**
 * The binding queue's waiting messages with their FIFO group, read through fauxqs' inspection
 * endpoint (receiving them would hide them from the worker).
 */
export async function queuedMessages(sqs: LocalSqs): Promise<QueuedMessage[]> {
  const name = sqs.queueUrl.split('/').pop() ?? '';
  const answer = await fetch(`${sqs.endpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
  if (!answer.ok) throw new Error(`fauxqs inspection answered ${answer.status}`);
  const { messages } = (await answer.json()) as { messages: { ready: { body: string; messageGroupId: string }[] } };
  return messages.ready.map(({ body, messageGroupId }) => ({ groupId: messageGroupId, message: JSON.parse(body) as WorkMessage }));
}

/** The messages queued in one FIFO group (`t:<token>`, `a:<hash>`), in order. */
export const queuedInGroup = async (sqs: LocalSqs, groupId: string): Promise<WorkMessage[]> =>
  (await queuedMessages(sqs)).filter((queued) => queued.groupId === groupId).map((queued) => queued.message);
