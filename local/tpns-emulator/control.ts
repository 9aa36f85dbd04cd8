/**
 * The /_emulator/* control API for tests and demos: request log, counters, state, faults,
 * invalid tokens, propagation delay and reordering window, waiting for idle, reset. Control
 * calls are not recorded as API calls.
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod/mini';
import { FAULT_KINDS } from './faults.js';
import { parseJson, readBody, sendJson } from './http.js';
import type { EmulatorRuntime } from './runtime.js';
import { platformSchema, tokenSchema } from './schemas.js';

export const CONTROL_PREFIX = '/_emulator';

/** Control bodies are tiny; this only guards against mistakes. */
const MAX_CONTROL_BODY_BYTES = 1024 * 1024;

export const faultRuleSchema = z.object({
  kind: z.enum(FAULT_KINDS),
  rate: z.optional(z.number().check(z.positive(), z.lte(1))),
  count: z.optional(z.int().check(z.positive())),
  path: z.optional(z.string().check(z.minLength(1))),
  platform: z.optional(platformSchema),
  latencyMs: z.optional(z.int().check(z.nonnegative())),
  retryAfterSeconds: z.optional(z.int().check(z.nonnegative())),
  seed: z.optional(z.int()),
});
const tokensSchema = z.object({ tokens: z.array(tokenSchema) });
const applyWindowSchema = z
  .strictObject({ minMs: z.int().check(z.nonnegative()), maxMs: z.int().check(z.nonnegative()), seed: z.optional(z.int()) })
  .check(z.refine((window) => window.minMs <= window.maxMs, { message: 'maxMs must be >= minMs', path: ['maxMs'] }));
/** Partial: fields left out keep their value. Strict, so a misspelt field is a 400, not a silent no-op. */
const configSchema = z.strictObject({
  propagationDelayMs: z.optional(z.int().check(z.nonnegative())),
  applyWindow: z.optional(z.nullable(applyWindowSchema)),
});
// Capped well below setTimeout's 2^31 ms limit, past which Node fires at once.
const idleQuerySchema = z.object({ timeoutMs: z.optional(z.coerce.number().check(z.int(), z.nonnegative(), z.lte(600_000))) });

/** /idle waits at most this long unless told otherwise (below common HTTP client timeouts). */
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

type Result = { status: number; payload: unknown };
type Handler = (runtime: EmulatorRuntime, body: unknown, query: URLSearchParams) => Result | Promise<Result>;

const bad = (issues: readonly { path: PropertyKey[]; message: string }[]): { status: number; payload: unknown } => ({
  status: 400,
  payload: { error: 'invalid control request', issues: issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })) },
});

const ok = (payload: unknown, status = 200): { status: number; payload: unknown } => ({ status, payload });

function stateOf(runtime: EmulatorRuntime, platform: 'android' | 'ios'): unknown {
  const store = runtime.stores[platform];
  return { ...store.snapshot(), pending: store.pendingCount };
}

const configOf = (runtime: EmulatorRuntime): unknown => ({ propagationDelayMs: runtime.propagationDelayMs, applyWindow: runtime.applyWindow });

/** Waits for runtime.idle() up to `timeoutMs`; either way answers whether it is idle and what is still pending. */
async function waitIdle(runtime: EmulatorRuntime, timeoutMs: number): Promise<Result> {
  const idle = await runtime.idle(AbortSignal.timeout(timeoutMs)).then(
    () => true,
    (error: unknown) => {
      if (runtime.shutdown.signal.aborted) throw error;
      return false;
    },
  );
  return ok({ idle, pending: runtime.pending() });
}

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/health': {
    GET: (runtime) => ok({ ok: true, apps: { android: { accessId: runtime.apps.android.accessId }, ios: { accessId: runtime.apps.ios.accessId } } }),
  },
  '/requests': {
    GET: (runtime, _body, query) => {
      const path = query.get('path');
      const platform = query.get('platform');
      const requests = runtime.log
        .list()
        .filter((entry) => (!path || entry.path.endsWith(path)) && (!platform || entry.platform === platform));
      return ok({ requests });
    },
    DELETE: (runtime) => {
      runtime.log.clear();
      return ok({ ok: true });
    },
  },
  '/counters': { GET: (runtime) => ok(runtime.log.counters()) },
  '/state': {
    GET: (runtime, _body, query) => {
      const platform = platformSchema.safeParse(query.get('platform') ?? undefined);
      if (platform.success) return ok({ [platform.data]: stateOf(runtime, platform.data) });
      if (query.has('platform')) return bad(platform.error.issues.map((issue) => ({ ...issue, path: ['platform'] })));
      return ok({ android: stateOf(runtime, 'android'), ios: stateOf(runtime, 'ios') });
    },
  },
  '/idle': {
    GET: (runtime, _body, query) => {
      const parsed = idleQuerySchema.safeParse(Object.fromEntries(query));
      if (!parsed.success) return bad(parsed.error.issues);
      return waitIdle(runtime, parsed.data.timeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    },
  },
  '/reset': {
    POST: (runtime) => {
      runtime.reset();
      return ok({ ok: true });
    },
  },
  '/faults': {
    GET: (runtime) => ok({ faults: runtime.faults.list() }),
    POST: (runtime, body) => {
      const parsed = faultRuleSchema.safeParse(body);
      if (!parsed.success) return bad(parsed.error.issues);
      return ok({ fault: runtime.faults.add(parsed.data) }, 201);
    },
    DELETE: (runtime) => {
      runtime.faults.clear();
      return ok({ ok: true });
    },
  },
  '/invalid-tokens': {
    GET: (runtime) => ok({ tokens: [...runtime.invalidTokens] }),
    PUT: (runtime, body) => {
      const parsed = tokensSchema.safeParse(body);
      if (!parsed.success) return bad(parsed.error.issues);
      runtime.invalidTokens = new Set(parsed.data.tokens);
      return ok({ tokens: [...runtime.invalidTokens] });
    },
    POST: (runtime, body) => {
      const parsed = tokensSchema.safeParse(body);
      if (!parsed.success) return bad(parsed.error.issues);
      for (const token of parsed.data.tokens) runtime.invalidTokens.add(token);
      return ok({ tokens: [...runtime.invalidTokens] });
    },
  },
  '/config': {
    GET: (runtime) => ok(configOf(runtime)),
    PUT: (runtime, body) => {
      const parsed = configSchema.safeParse(body);
      if (!parsed.success) return bad(parsed.error.issues);
      const { propagationDelayMs, applyWindow } = parsed.data;
      if (propagationDelayMs !== undefined) runtime.propagationDelayMs = propagationDelayMs;
      if (applyWindow !== undefined) runtime.applyWindow = applyWindow;
      return ok(configOf(runtime));
    },
  },
};

export async function handleControl(runtime: EmulatorRuntime, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const methods = ROUTES[url.pathname.slice(CONTROL_PREFIX.length)];
  const handler = methods?.[req.method ?? 'GET'];
  if (!methods || !handler) {
    const allowed = methods ? { allow: Object.keys(methods).join(', ') } : undefined;
    sendJson(res, methods ? 405 : 404, { error: methods ? `method ${req.method} not allowed` : `no control route ${url.pathname}` }, allowed);
    return;
  }
  const raw = await readBody(req, MAX_CONTROL_BODY_BYTES);
  const body = raw.length === 0 ? undefined : parseJson(raw);
  if (raw.length > 0 && body === undefined) {
    sendJson(res, 400, { error: 'control request body is not valid JSON' });
    return;
  }
  const { status, payload } = await handler(runtime, body, url.searchParams);
  sendJson(res, status, payload);
}
