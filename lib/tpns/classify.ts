/**
 * What a TPNS code means for the caller: success, retry later, or give up.
 *
 * Retryable (issue #2): HTTP 5xx, timeouts, connection errors, 1008004, 1008028. Everything else
 * is permanent and never retried. A reply that does not match TPNS's documented shape (no ret
 * code, a `result` of the wrong length) is treated as retryable `BAD_RESPONSE`: every operation
 * is idempotent (overwrite, remove), so sending it again is safe, and such replies come from
 * proxies and gateways in trouble, not from a request TPNS understood and refused.
 */
import { CLIENT_CODE, TPNS_CODE } from './constants.js';
import {
  TpnsAppError,
  TpnsAuthError,
  TpnsBadRequestError,
  TpnsError,
  TpnsRateLimitError,
  TpnsUnavailableError,
} from './errors.js';

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  [TPNS_CODE.ok]: 'ok',
  [TPNS_CODE.okLegacy]: 'ok',
  [TPNS_CODE.parseError]: 'parameter parse error',
  [TPNS_CODE.missingParameter]: 'missing parameter',
  [TPNS_CODE.authFailed]: 'authentication failed',
  [TPNS_CODE.internalError]: 'TPNS internal service call failed',
  [TPNS_CODE.invalidToken]: 'invalid token',
  [TPNS_CODE.validationFailed]: 'parameter validation failed',
  [TPNS_CODE.batchPartlyFailed]: 'batch partly failed',
  [TPNS_CODE.batchFullyFailed]: 'batch fully failed',
  [TPNS_CODE.tooFast]: 'request too fast',
  [TPNS_CODE.tokenInvalid]: 'token invalid',
  [TPNS_CODE.appNotPaid]: 'app not paid',
  [TPNS_CODE.appDestroyed]: 'app resources destroyed',
  [TPNS_CODE.wrongAccessPoint]: 'AccessId wrong, or host is not this app access point',
  [TPNS_CODE.notFound]: 'token/account does not exist',
};

/** Tencent's meaning of a code, for messages (per-item statuses come without text). */
export function describeCode(code: string): string {
  return DESCRIPTIONS[code] ?? `TPNS status ${code}`;
}

/** "0" (current pages) and "ok" (older pages) both mean success. */
export function isSuccessCode(code: string): boolean {
  return code === TPNS_CODE.ok || code === TPNS_CODE.okLegacy;
}

/** 1008026/1008027: the call itself went through; the verdict is in `result`, per item. */
export function isPerItemVerdict(code: string): boolean {
  return code === TPNS_CODE.batchPartlyFailed || code === TPNS_CODE.batchFullyFailed;
}

export function isRetryableCode(code: string): boolean {
  return code === TPNS_CODE.internalError || code === TPNS_CODE.tooFast;
}

/** The outcome of one item's status string from `result`. */
export function classifyItemStatus(code: string): { ok: boolean; code: string; message: string; retryable: boolean } {
  const ok = isSuccessCode(code);
  return { ok, code, message: describeCode(code), retryable: !ok && isRetryableCode(code) };
}

export interface CallFailure {
  httpStatus: number;
  /** TPNS ret code from the body, when there was one. */
  retCode?: string;
  /** TPNS err_msg, when there was one. */
  message?: string;
  retryAfterMs?: number;
  /** The app the call was signed for: an auth failure then says which variables to check. */
  platform?: string;
}

/** Which settings an authentication failure of one app points at. */
const credentialsHint = (platform: string | undefined): string => {
  if (!platform) return '';
  const prefix = `TPNS_${platform.toUpperCase()}`;
  return ` for the ${platform} app: check ${prefix}_ACCESS_ID and ${prefix}_SECRET_KEY (deployed: ${prefix}_SECRET_KEY_PARAM), and TPNS_REGION / TPNS_ENDPOINT (the app's access point)`;
};

/** The named error for a call TPNS refused or failed (anything but a per-item verdict). */
export function errorForFailedCall(failure: CallFailure): TpnsError {
  const { httpStatus, retCode, retryAfterMs } = failure;
  const text = (code: string) => `TPNS ${code}: ${failure.message || describeCode(code)} (HTTP ${httpStatus})`;
  const details = (code: string, retryable: boolean) => ({ code, httpStatus, retryable, retryAfterMs });

  if (httpStatus >= 500) {
    const code = CLIENT_CODE.httpStatus(httpStatus);
    return new TpnsUnavailableError(text(retCode ?? code), details(code, true));
  }
  if (httpStatus === 401 || httpStatus === 403) {
    const code = retCode ?? CLIENT_CODE.httpStatus(httpStatus);
    return new TpnsAuthError(text(code) + credentialsHint(failure.platform), details(code, false));
  }
  if (retCode === undefined) {
    const code = CLIENT_CODE.httpStatus(httpStatus);
    if (httpStatus === 429) return new TpnsRateLimitError(text(code), details(code, true));
    if (httpStatus >= 300) return new TpnsBadRequestError(text(code), details(code, false));
    return badResponse('no ret code', httpStatus);
  }
  switch (retCode) {
    case TPNS_CODE.authFailed:
    case TPNS_CODE.wrongAccessPoint:
      return new TpnsAuthError(text(retCode) + credentialsHint(failure.platform), details(retCode, false));
    case TPNS_CODE.tooFast:
      return new TpnsRateLimitError(text(retCode), details(retCode, true));
    case TPNS_CODE.internalError:
      return new TpnsUnavailableError(text(retCode), details(retCode, true));
    case TPNS_CODE.appNotPaid:
    case TPNS_CODE.appDestroyed:
      return new TpnsAppError(text(retCode), details(retCode, false));
    case TPNS_CODE.parseError:
    case TPNS_CODE.missingParameter:
    case TPNS_CODE.validationFailed:
      return new TpnsBadRequestError(text(retCode), details(retCode, false));
    default:
      return new TpnsError(text(retCode), details(retCode, false));
  }
}

/** A reply whose shape is not TPNS's documented one. */
export function badResponse(reason: string, httpStatus: number): TpnsUnavailableError {
  return new TpnsUnavailableError(`Malformed TPNS reply: ${reason}`, {
    code: CLIENT_CODE.badResponse,
    httpStatus,
    retryable: true,
  });
}
