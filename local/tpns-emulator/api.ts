/**
 * One TPNS API call over HTTP: authenticate, apply any injected fault, validate, run the
 * operation, answer, and record the call in the request log.
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { authenticate, type EmulatorPlatform } from './auth.js';
import type { ActiveFault } from './faults.js';
import { BodyTooLargeError, parseJson, readBody, sendJson } from './http.js';
import type { RequestLogEntry } from './log.js';
import {
  CODE,
  batchOperate,
  checkBatchOperate,
  checkQuery,
  tpnsErrorAnswer,
  query,
  requestedItems,
  type Checked,
  type TpnsRoute,
} from './operations.js';
import type { EmulatorRuntime } from './runtime.js';
import type { BatchOperateBody, QueryBody } from './schemas.js';

export const API_ROUTES: Readonly<Record<string, TpnsRoute>> = {
  '/v3/device/account/batchoperate': 'batchoperate',
  '/v3/device/account/query': 'query',
};

/** Default Retry-After for an injected 1008028 (TPNS's limiter works per second). */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

type Entry = Omit<RequestLogEntry, 'seq'>;

/** A parsed body checked against its route's rules (checked before faults, so the log can say what was asked). */
type CheckedCall =
  | { route: 'batchoperate'; checked: Checked<BatchOperateBody> }
  | { route: 'query'; checked: Checked<QueryBody> };

function checkCall(route: TpnsRoute, body: unknown, platform: EmulatorPlatform): CheckedCall {
  return route === 'batchoperate'
    ? { route, checked: checkBatchOperate(body, platform) }
    : { route, checked: checkQuery(body) };
}

function countItems(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const field of ['token_accounts', 'token_list', 'account_list']) {
    const list = record[field];
    if (Array.isArray(list)) return list.length;
  }
  return undefined;
}

function answerFault(res: ServerResponse, route: TpnsRoute, fault: ActiveFault, entry: Entry): void {
  entry.fault = fault.kind;
  const retryAfter: Record<string, string> =
    fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
  switch (fault.kind) {
    case 'drop':
      entry.httpStatus = 0;
      res.socket?.destroy();
      return;
    case 'http500':
      entry.httpStatus = 500;
      sendJson(res, 500, { error: 'Internal Server Error (injected)' }, retryAfter);
      return;
    case 'internal':
      entry.httpStatus = 200;
      entry.retCode = CODE.internalError;
      sendJson(res, 200, tpnsErrorAnswer(route, CODE.internalError, 'internal service call failed (injected)'), retryAfter);
      return;
    case 'rate-limit':
      entry.httpStatus = 200;
      entry.retCode = CODE.tooFast;
      sendJson(res, 200, tpnsErrorAnswer(route, CODE.tooFast, 'request too fast (injected)'), {
        'retry-after': String(fault.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS),
      });
      return;
    case 'latency':
      return; // latency is applied before, never as the failure
  }
}

export async function handleApiCall(
  runtime: EmulatorRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  route: TpnsRoute,
  path: string,
  maxBodyBytes: number,
): Promise<void> {
  // Read first: the arrival time must not include reading the body or an injected latency.
  const receivedAt = runtime.now();
  const entry: Entry = { receivedAt, time: receivedAt, path, auth: 'none', httpStatus: 200 };
  try {
    await serve(runtime, req, res, route, maxBodyBytes, entry);
  } finally {
    runtime.log.record(entry);
  }
}

async function serve(
  runtime: EmulatorRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  route: TpnsRoute,
  maxBodyBytes: number,
  entry: Entry,
): Promise<void> {
  const reply = (status: number, code: number, message: string, headers?: Record<string, string>): void => {
    entry.httpStatus = status;
    entry.retCode = code;
    sendJson(res, status, tpnsErrorAnswer(route, code, message), headers);
  };

  let raw: Buffer;
  try {
    raw = await readBody(req, maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      reply(413, CODE.validationFailed, error.message, { connection: 'close' });
      return;
    }
    throw error;
  }

  const auth = authenticate(req.headers, raw, runtime.appList);
  if (!auth.ok) {
    reply(401, CODE.authFailed, `authentication failed: ${auth.reason}`);
    return;
  }
  entry.auth = auth.method;
  entry.platform = auth.app.platform;

  const { latencyMs, failure } = runtime.faults.pick(entry.path, auth.app.platform);
  if (latencyMs > 0) {
    entry.latencyMs = latencyMs;
    entry.fault = 'latency';
    await sleep(latencyMs, undefined, { signal: runtime.shutdown.signal });
  }

  const body = parseJson(raw);
  const call = body === undefined ? undefined : checkCall(route, body, auth.app.platform);
  if (body !== undefined) {
    entry.body = body;
    const operatorType = (body as { operator_type?: unknown } | null)?.operator_type;
    if (typeof operatorType === 'number') entry.operatorType = operatorType;
    entry.items = countItems(body);
    if (call?.checked.ok) entry.requested = requestedItems(call.checked.body);
  }
  if (failure) {
    answerFault(res, route, failure, entry);
    return;
  }
  if (call === undefined) {
    reply(200, CODE.parseError, 'request body is not valid JSON');
    return;
  }
  if (!call.checked.ok) return reply(200, call.checked.code, call.checked.message);

  const context = runtime.context(auth.app);
  if (call.route === 'batchoperate') {
    const answer = batchOperate(call.checked.body, context);
    entry.retCode = answer.ret_code;
    entry.result = answer.result;
    sendJson(res, 200, answer);
  } else {
    const answer = query(call.checked.body, context);
    entry.retCode = answer.retCode;
    entry.result = answer.result;
    sendJson(res, 200, answer);
  }
}
