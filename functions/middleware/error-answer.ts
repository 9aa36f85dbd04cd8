/**
 * Maps an error to the product spec's HTTP error answer. Bodies name the problem (and each bad
 * field) but never carry a stack trace, a secret or an unexpected error's message.
 */
import { QueueUnavailableError } from '../../lib/queue/errors.js';
import { TpnsConfigError, TpnsError, TpnsPlatformNotConfiguredError, TpnsValidationError } from '../../lib/tpns/errors.js';
import { InvalidInputError } from '../../lib/triggers/index.js';
import type { Issue } from '../../lib/triggers/index.js';
import { ForbiddenError, PayloadTooLargeError, RouteNotFoundError, UnauthorizedError } from './errors.js';

/** SQS outages are short; a client retrying after a few seconds most likely gets through. */
export const QUEUE_RETRY_AFTER_SECONDS = 5;
/** TPNS throttling (1008028) is per second; retrying much sooner would only be throttled again. */
export const TPNS_RETRY_AFTER_SECONDS = 2;

export interface ErrorAnswer {
  status: number;
  body: { error: string; issues?: Issue[]; code?: string };
  headers?: Record<string, string>;
}

/** middy's own HTTP errors (the JSON body parser's 415 and 422). */
const isMiddyHttpError = (error: unknown): error is Error & { statusCode: number; expose?: boolean } =>
  error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number';

export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof InvalidInputError) return { status: 400, body: { error: error.message, issues: error.issues } };
  if (error instanceof TpnsPlatformNotConfiguredError) {
    return {
      status: 400,
      body: { error: error.message, issues: [{ path: 'platform', message: `"${error.platform}" is not configured on this deployment` }] },
    };
  }
  if (error instanceof TpnsValidationError) {
    const issues = error.issues.map(({ index, path, message }) => ({ path: index === undefined ? path : `${index}.${path}`, message }));
    return { status: 400, body: { error: error.message, issues } };
  }
  if (error instanceof UnauthorizedError) return { status: 401, body: { error: error.message } };
  if (error instanceof ForbiddenError) return { status: 403, body: { error: error.message } };
  if (error instanceof RouteNotFoundError) return { status: 404, body: { error: error.message } };
  if (error instanceof PayloadTooLargeError) return { status: 413, body: { error: error.message } };
  if (isMiddyHttpError(error) && error.statusCode === 415) {
    return { status: 415, body: { error: 'The body must be JSON: send Content-Type: application/json' } };
  }
  if (isMiddyHttpError(error) && error.statusCode === 422) {
    // The parser refuses prototype-pollution keys (`__proto__`, `constructor.prototype`) with a 422 of its own.
    const forbiddenKey = (error.cause as { data?: unknown } | undefined)?.data;
    if (error.message === 'Forbidden key in JSON body' && typeof forbiddenKey === 'string') {
      return {
        status: 400,
        body: { error: `Invalid request: body: the key "${forbiddenKey}" is not allowed`, issues: [{ path: 'body', message: `must not contain the key "${forbiddenKey}"` }] },
      };
    }
    return { status: 400, body: { error: 'Invalid request: the body is not valid JSON', issues: [{ path: 'body', message: 'must be valid JSON' }] } };
  }
  if (error instanceof QueueUnavailableError) {
    return {
      status: 503,
      headers: { 'Retry-After': String(QUEUE_RETRY_AFTER_SECONDS) },
      body: { error: 'The work queue is unavailable; retry the request (it is safe to repeat)' },
    };
  }
  if (error instanceof TpnsError && error.retryable) {
    const seconds = error.retryAfterMs === undefined ? TPNS_RETRY_AFTER_SECONDS : Math.ceil(error.retryAfterMs / 1000);
    return { status: 503, headers: { 'Retry-After': String(seconds) }, body: { error: 'TPNS is unavailable; retry later', code: error.code } };
  }
  // A deployment without TPNS credentials is our fault, not TPNS's: a plain 500 below.
  if (error instanceof TpnsError && !(error instanceof TpnsConfigError)) {
    return { status: 502, body: { error: 'TPNS refused the request', code: error.code } };
  }
  return { status: 500, body: { error: 'Internal error' } };
}
