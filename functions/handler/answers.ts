/**
 * Every refusal as the product spec's HTTP answer `{ error, issues?, code? }`. HTTP-level
 * refusals are middy's own HttpErrors (`createError`); domain errors map by class in one table.
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
export const RETRY_AFTER_SECONDS = 5;
/** TPNS throttling (1008028) is per second; retrying much sooner would only be throttled again. */
export const TPNS_RETRY_AFTER_SECONDS = 2;

export interface ErrorAnswer {
  status: number;
  body: { error: string; issues?: Issue[]; code?: string };
  headers?: Record<string, string>;
}

const retryLater = (error: string, seconds = RETRY_AFTER_SECONDS): ErrorAnswer => ({ status: 503, headers: { 'Retry-After': String(seconds) }, body: { error } });

/** middy's body parser refuses prototype-pollution keys with a 422 naming the key in its cause. */
const forbiddenKey = (error: HttpError): string | undefined => {
  const data = (error.cause as { data?: unknown } | undefined)?.data;
  return error.statusCode === 422 && typeof data === 'string' && error.message === 'Forbidden key in JSON body' ? data : undefined;
};

function httpAnswer(error: HttpError): ErrorAnswer {
  const key = forbiddenKey(error);
  if (key) return { status: 400, body: { error: `Invalid request: body: the key "${key}" is not allowed`, issues: [{ path: 'body', message: `must not contain the key "${key}"` }] } };
  if (error.statusCode === 422) return { status: 400, body: { error: 'Invalid request: the body is not valid JSON', issues: [{ path: 'body', message: 'must be valid JSON' }] } };
  if (error.statusCode === 415) return { status: 415, body: { error: 'The body must be JSON: send Content-Type: application/json' } };
  // RFC 6750: say what is expected, so a client without a token knows what to send.
  const headers = error.statusCode === 401 ? { 'WWW-Authenticate': `Bearer realm="tpns-account-sync", error_description="${error.message.replaceAll('"', "'")}"` } : undefined;
  return { status: error.statusCode, body: { error: error.expose ? error.message : 'Internal error' }, ...(headers ? { headers } : {}) };
}

/** Domain errors by class, first match wins (subclasses before their parents). */
const DOMAIN_ANSWERS: readonly [new (...args: never[]) => Error, (error: never) => ErrorAnswer][] = [
  [InvalidInputError, (error: InvalidInputError) => ({ status: 400, body: { error: error.message, issues: error.issues } })],
  [
    TpnsPlatformNotConfiguredError,
    (error: TpnsPlatformNotConfiguredError) => ({ status: 400, body: { error: error.message, issues: [{ path: 'platform', message: `"${error.platform}" is not configured on this deployment` }] } }),
  ],
  [
    TpnsValidationError,
    (error: TpnsValidationError) => ({ status: 400, body: { error: error.message, issues: error.issues.map(({ index, path, message }) => ({ path: index === undefined ? path : `${index}.${path}`, message })) } }),
  ],
  [QueueUnavailableError, () => retryLater('The work queue is unavailable; retry the request (it is safe to repeat)')],
  [LedgerUnavailableError, () => retryLater('The intent ledger is unavailable; the request was not accepted, retry it (it is safe to repeat)')],
  // A deployment without TPNS credentials is our fault, not TPNS's.
  [TpnsConfigError, () => ({ status: 500, body: { error: 'Internal error' } })],
  [
    TpnsError,
    (error: TpnsError) =>
      error.retryable
        ? { ...retryLater('TPNS is unavailable; retry later', error.retryAfterMs === undefined ? TPNS_RETRY_AFTER_SECONDS : Math.ceil(error.retryAfterMs / 1000)), body: { error: 'TPNS is unavailable; retry later', code: error.code } }
        : { status: 502, body: { error: 'TPNS refused the request', code: error.code } },
  ],
];

export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof HttpError) return httpAnswer(error);
  const rule = DOMAIN_ANSWERS.find(([type]) => error instanceof type);
  return rule ? (rule[1] as (error: unknown) => ErrorAnswer)(error) : { status: 500, body: { error: 'Internal error' } };
}
