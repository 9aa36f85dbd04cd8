/**
 * One HTTP POST to TPNS. Node's global fetch (undici) keeps connections alive between calls, so
 * a warm Lambda reuses its TLS connection. Timeouts and connection failures become retryable
 * TpnsUnavailableErrors; a caller's own abort is passed through untouched (never retried).
 */
import { CLIENT_CODE } from './constants.js';
import { TpnsUnavailableError } from './errors.js';

export interface HttpReply {
  status: number;
  /** Parsed JSON, or `undefined` when the body is empty or not JSON. */
  body: unknown;
  /** `Retry-After` in milliseconds, when the server sent one. */
  retryAfterMs: number | undefined;
}

export interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export async function postJson({ url, headers, body, timeoutMs, signal }: PostOptions): Promise<HttpReply> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await response.text();
    return { status: response.status, body: parseJson(text), retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) {
      throw new TpnsUnavailableError(`TPNS did not answer within ${timeoutMs} ms`, { code: CLIENT_CODE.timeout, retryable: true, cause: error });
    }
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new TpnsUnavailableError(`Cannot reach TPNS: ${reason}`, { code: CLIENT_CODE.network, retryable: true, cause: error });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
