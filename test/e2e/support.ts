/**
 * What the end-to-end tests share: the test stack (test/support/stack.ts: TPNS emulator, fauxqs,
 * dynalite, the worker behind a Lambda-like event source) with the HTTP API in front of it as
 * `npm start` serves it (local/stack/http-host.ts: serverless.yml's routes, the JWT authorizer,
 * payload 2.0 events, the real handlers), and a tiny HTTP client with dev JWTs.
 *
 * The worker polls as serverless.yml configures it: batches of up to `workerBatchSize` (100)
 * gathered for up to `maximumBatchingWindow` (1 s), so queued keys are coalesced as deployed.
 */
import { httpApiRoutes, readServerlessConfig } from '../../local/serverless-config.js';
import { startHttpHost } from '../../local/stack/http-host.js';
import { signDevToken } from '../../local/stack/jwt.js';
import { startStack } from '../support/stack.js';
import type { Stack, StackOptions } from '../support/stack.js';

export interface E2eStack extends Stack {
  /** `http://127.0.0.1:<port>`: the HTTP API. */
  apiUrl: string;
}

export async function startE2eStack(options: Omit<StackOptions, 'worker'> & { worker?: StackOptions['worker'] } = {}): Promise<E2eStack> {
  const config = readServerlessConfig();
  const stack = await startStack({
    emulator: { env: {} },
    ...options,
    worker: {
      batchSize: config.worker.batchSize,
      maximumBatchingWindowSeconds: config.worker.maximumBatchingWindowSeconds,
      // Above the batching window, as AWS requires; short, so a failed message comes back in seconds.
      visibilityTimeoutSeconds: 5,
      ...options.worker,
    },
  });
  const api = await startHttpHost({
    routes: httpApiRoutes(config),
    port: 0,
    // A test whose handler fails should say why, not only that a status differed.
    onError: (error, route) => console.warn(`[api] ${route ? `${route.method} ${route.path}` : 'host'}:`, error),
  });
  const closeStack = stack.close.bind(stack);
  return Object.assign(stack, {
    apiUrl: api.url,
    close: async () => {
      await api.close();
      await closeStack();
    },
  });
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
}

export interface ApiCallOptions {
  /** A dev JWT; omit for an anonymous call. */
  token?: string;
  /** Serialised as JSON unless it is a string (sent as is, e.g. malformed JSON). */
  body?: unknown;
}

export async function callApi(stack: E2eStack, method: string, path: string, options: ApiCallOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`${stack.apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export const userToken = (account: string) => signDevToken(account);
export const adminToken = () => signDevToken('ops-admin', { admin: true });

/** batchoperate calls the emulator has answered so far (of one operator type). */
export function batchoperateCalls(stack: Stack, operatorType?: number) {
  return stack.tpns.requests().filter((entry) => entry.path.endsWith('/batchoperate') && (operatorType === undefined || entry.operatorType === operatorType));
}

/** Takes every message out of the dead-letter queue; their parsed bodies. */
export async function takeDeadLetters(stack: Stack): Promise<unknown[]> {
  return (await stack.take('dead-letters')).map((body) => JSON.parse(body) as unknown);
}
