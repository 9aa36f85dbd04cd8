/**
 * Every refusal as the product spec's HTTP answer `{ error, issues?, code? }`. HTTP-level
 * refusals are middy's own HttpErrors (`createError`); domain errors map by class, in one place.
 * Bodies name the problem (and each bad field), never a stack trace, a secret or an unexpected
 * error's message.
 */
import { HttpError } from '@middy/util';
import { LedgerUnavailableError } from '../../lib/ledger/records.js';
import { QueueUnavailableError } from '../../lib/queue/messages.js';
import { TpnsConfigError, TpnsError, TpnsPlatformNotConfiguredError, TpnsValidationError } from '../../lib/tpns/errors.js';
import { InvalidInputError } from '../../lib/triggers/issues.js';
import type { Issue } from '../../lib/triggers/issues.js';

/** SQS and DynamoDB outages are short: a client retrying after a few seconds most likely gets through. */
const RETRY_AFTER_SECONDS = 5;
/** TPNS throttling (1008028) is per second; retrying much sooner would only be throttled again. */
const TPNS_RETRY_AFTER_SECONDS = 2;

export interface ErrorAnswer {
  status: number;
  body: { error: string; issues?: Issue[]; code?: string };
  headers?: Record<string, string>;
}

const INTERNAL: ErrorAnswer = { status: 500, body: { error: 'Internal error' } };
const invalid = (error: string, issues: Issue[]): ErrorAnswer => ({ status: 400, body: { error, issues } });
const retryLater = (body: ErrorAnswer['body'], seconds = RETRY_AFTER_SECONDS): ErrorAnswer =>
  ({ status: 503, headers: { 'Retry-After': String(seconds) }, body });

function httpAnswer(error: HttpError): ErrorAnswer {
  // middy's body parser refuses prototype-pollution keys with a 422 naming the key in its cause.
  const key = error.message === 'Forbidden key in JSON body' ? (error.cause as { data?: unknown } | undefined)?.data : undefined;
  if (error.statusCode === 422 && typeof key === 'string') {
    return invalid(`Invalid request: body: the key "${key}" is not allowed`, [{ path: 'body', message: `must not contain the key "${key}"` }]);
  }
  if (error.statusCode === 422) return invalid('Invalid request: the body is not valid JSON', [{ path: 'body', message: 'must be valid JSON' }]);
  if (error.statusCode === 415) return { status: 415, body: { error: 'The body must be JSON: send Content-Type: application/json' } };
  const answer = { status: error.statusCode, body: { error: error.expose ? error.message : 'Internal error' } };
  if (error.statusCode !== 401) return answer;
  // RFC 6750: say what is expected, so a client without a token knows what to send.
  return { ...answer, headers: { 'WWW-Authenticate': `Bearer realm="tpns-account-sync", error_description="${error.message.replaceAll('"', "'")}"` } };
}

/** Domain errors by class, first match wins (subclasses before their parents). */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof HttpError) return httpAnswer(error);
  if (error instanceof InvalidInputError) return invalid(error.message, error.issues);
  if (error instanceof TpnsPlatformNotConfiguredError) {
    return invalid(error.message, [{ path: 'platform', message: `"${error.platform}" is not configured on this deployment` }]);
  }
  if (error instanceof TpnsValidationError) {
    return invalid(error.message, error.issues.map(({ index, path, message }) => ({ path: index === undefined ? path : `${index}.${path}`, message })));
  }
  if (error instanceof QueueUnavailableError) return retryLater({ error: 'The work queue is unavailable; retry the request (it is safe to repeat)' });
  if (error instanceof LedgerUnavailableError) {
    return retryLater({ error: 'The intent ledger is unavailable; the request was not accepted, retry it (it is safe to repeat)' });
  }
  // A deployment without TPNS credentials is our fault, not TPNS's; so is any error not named here.
  if (error instanceof TpnsConfigError || !(error instanceof TpnsError)) return INTERNAL;
  if (!error.retryable) return { status: 502, body: { error: 'TPNS refused the request', code: error.code } };
  const seconds = error.retryAfterMs === undefined ? TPNS_RETRY_AFTER_SECONDS : Math.ceil(error.retryAfterMs / 1000);
  return retryLater({ error: 'TPNS is unavailable; retry later', code: error.code }, seconds);
}
