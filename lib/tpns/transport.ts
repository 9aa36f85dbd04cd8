/**
 * One HTTP POST to TPNS over node:http/node:https with a keep-alive Agent per protocol, so a warm
 * Lambda reuses its TLS connection. Not the global fetch: on Node 24 fetch loads undici on its
 * first request, which made the first TPNS call of a cold start ~40 ms against ~11 ms for
 * node:http (measured here from a fresh process, loopback server), and each warm call ~2 ms
 * slower. The whole exchange (connect, send, read the body) must end within `timeoutMs`.
 * Timeouts and connection failures become retryable TpnsUnavailableErrors; a caller's own abort
 * is passed through untouched (never retried).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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

/**
 * Kept-alive sockets are reused newest first (`lifo`), so the ones a burst opened idle out; a
 * socket idle for 30 s is closed before a server (typically 60 s) closes it under our feet.
 * A reused socket the server did close anyway fails the call as NETWORK, which is retried.
 */
const AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo', timeout: 30_000 } as const;
const httpAgent = new HttpAgent(AGENT_OPTIONS);
const httpsAgent = new HttpsAgent(AGENT_OPTIONS);

export function postJson({ url, headers, body, timeoutMs, signal }: PostOptions): Promise<HttpReply> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  const secure = url.startsWith('https:');
  return new Promise<HttpReply>((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent: secure ? httpsAgent : httpAgent,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers },
    });
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (error: unknown): void => {
      if (!settle()) return;
      request.destroy();
      reject(error as Error);
    };
    const unreachable = (error: Error): void =>
      fail(new TpnsUnavailableError(`Cannot reach TPNS: ${error.message}`, { code: CLIENT_CODE.network, retryable: true, cause: error }));
    const timer = setTimeout(
      () => fail(new TpnsUnavailableError(`TPNS did not answer within ${timeoutMs} ms`, { code: CLIENT_CODE.timeout, retryable: true })),
      timeoutMs,
    );
    const onAbort = (): void => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    request.on('error', unreachable);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', unreachable);
      response.on('end', () => {
        if (!settle()) return;
        resolve({
          status: response.statusCode ?? 0,
          body: parseJson(Buffer.concat(chunks).toString('utf8')),
          retryAfterMs: parseRetryAfter(retryAfterHeader(response.headers)),
        });
      });
    });
    request.end(body);
  });
}

const retryAfterHeader = (headers: IncomingHttpHeaders): string | null => headers['retry-after'] ?? null;

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
