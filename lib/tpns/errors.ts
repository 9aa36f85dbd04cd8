/**
 * Named errors of the TPNS client. Every one carries the TPNS code (or a client code such as
 * `TIMEOUT`) and whether trying again later may succeed. Messages never contain credentials.
 */
import { CLIENT_CODE } from './constants.js';
import type { Platform } from './types.js';

export interface TpnsErrorDetails {
  code: string;
  httpStatus?: number;
  retryable?: boolean;
  /** Milliseconds the server asked us to wait (`Retry-After`). */
  retryAfterMs?: number;
  cause?: unknown;
}

export class TpnsError extends Error {
  override name = 'TpnsError';
  /** TPNS ret_code ("1008003") or client code (`HTTP_500`, `TIMEOUT`, `NETWORK`, ...). */
  readonly code: string;
  readonly httpStatus: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, details: TpnsErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.httpStatus = details.httpStatus;
    this.retryable = details.retryable ?? false;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** One bad input item (or argument): `index` is absent for arguments that are not list items. */
export interface ValidationIssue {
  index?: number;
  path: string;
  message: string;
}

/** Input TPNS would reject; thrown before any network call, so nothing was sent. */
export class TpnsValidationError extends TpnsError {
  override name = 'TpnsValidationError';
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[]) {
    super(`Invalid input, nothing was sent: ${issues.map(formatIssue).join('; ')}`, { code: CLIENT_CODE.validation });
    this.issues = issues;
  }
}

function formatIssue(issue: ValidationIssue): string {
  const where = issue.index === undefined ? issue.path : `[${issue.index}].${issue.path}`;
  return `${where}: ${issue.message}`;
}

/** 1008003, 1008035, HTTP 401/403: credentials or access point are wrong. Never retried. */
export class TpnsAuthError extends TpnsError {
  override name = 'TpnsAuthError';
}

/** 1008028: too many requests. Retried with backoff, honouring `Retry-After`. */
export class TpnsRateLimitError extends TpnsError {
  override name = 'TpnsRateLimitError';
}

/** 1008001/1008002/1008007 (or another 4xx): TPNS refused the request itself. Never retried. */
export class TpnsBadRequestError extends TpnsError {
  override name = 'TpnsBadRequestError';
}

/** HTTP 5xx, 1008004, timeouts, connection errors, malformed replies. Retried. */
export class TpnsUnavailableError extends TpnsError {
  override name = 'TpnsUnavailableError';
}

/** The call's `notAfter` passed before its request started: nothing was sent; trying again after a fresh decision may succeed. */
export class TpnsSendWindowClosedError extends TpnsError {
  override name = 'TpnsSendWindowClosedError';

  constructor() {
    super('The send window closed before the request started; nothing was sent', { code: CLIENT_CODE.sendWindowClosed, retryable: true });
  }
}

/** 1008030 (app not paid), 1008031 (app resources destroyed). Never retried. */
export class TpnsAppError extends TpnsError {
  override name = 'TpnsAppError';
}

/** The client has no AccessId/SecretKey for this platform; nothing was sent. */
export class TpnsPlatformNotConfiguredError extends TpnsError {
  override name = 'TpnsPlatformNotConfiguredError';
  readonly platform: Platform;

  constructor(platform: Platform) {
    super(`TPNS platform "${platform}" is not configured (no AccessId/SecretKey)`, {
      code: CLIENT_CODE.platformNotConfigured,
    });
    this.platform = platform;
  }
}

/** Client options or TPNS_* environment variables are invalid. */
export class TpnsConfigError extends TpnsError {
  override name = 'TpnsConfigError';

  constructor(message: string) {
    super(message, { code: CLIENT_CODE.config });
  }
}
