import { describe, expect, it } from 'vitest';
import { errorForFailedCall, isRetryableCode } from '../../../lib/tpns/classify.js';
import {
  TpnsAppError,
  TpnsAuthError,
  TpnsBadRequestError,
  TpnsError,
  TpnsRateLimitError,
  TpnsUnavailableError,
} from '../../../lib/tpns/errors.js';

describe('errorForFailedCall', () => {
  const cases: [string, Parameters<typeof errorForFailedCall>[0], typeof TpnsError, string, boolean][] = [
    ['1008003 auth failed', { httpStatus: 401, retCode: '1008003' }, TpnsAuthError, '1008003', false],
    ['1008035 wrong access point', { httpStatus: 200, retCode: '1008035' }, TpnsAuthError, '1008035', false],
    ['HTTP 403 without a body', { httpStatus: 403 }, TpnsAuthError, 'HTTP_403', false],
    ['HTTP 401 with another code', { httpStatus: 401, retCode: '1008007' }, TpnsAuthError, '1008007', false],
    ['1008028 too fast', { httpStatus: 200, retCode: '1008028' }, TpnsRateLimitError, '1008028', true],
    ['HTTP 429', { httpStatus: 429 }, TpnsRateLimitError, 'HTTP_429', true],
    ['1008004 internal error', { httpStatus: 200, retCode: '1008004' }, TpnsUnavailableError, '1008004', true],
    ['HTTP 500', { httpStatus: 500 }, TpnsUnavailableError, 'HTTP_500', true],
    ['HTTP 503 with a ret code', { httpStatus: 503, retCode: '1008003' }, TpnsUnavailableError, 'HTTP_503', true],
    ['1008001 parse error', { httpStatus: 200, retCode: '1008001' }, TpnsBadRequestError, '1008001', false],
    ['1008002 missing parameter', { httpStatus: 400, retCode: '1008002' }, TpnsBadRequestError, '1008002', false],
    ['1008007 validation failed', { httpStatus: 200, retCode: '1008007' }, TpnsBadRequestError, '1008007', false],
    ['HTTP 404 without a body', { httpStatus: 404 }, TpnsBadRequestError, 'HTTP_404', false],
    ['1008030 not paid', { httpStatus: 200, retCode: '1008030' }, TpnsAppError, '1008030', false],
    ['1008031 destroyed', { httpStatus: 200, retCode: '1008031' }, TpnsAppError, '1008031', false],
    ['an unknown code', { httpStatus: 200, retCode: '1009999' }, TpnsError, '1009999', false],
    ['HTTP 200 without a ret code', { httpStatus: 200 }, TpnsUnavailableError, 'BAD_RESPONSE', true],
  ];

  it.each(cases)('%s', (_name, failure, errorClass, code, retryable) => {
    const error = errorForFailedCall(failure);
    expect(error).toBeInstanceOf(errorClass);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.httpStatus).toBe(failure.httpStatus);
  });

  it('keeps the Retry-After and the TPNS message', () => {
    const error = errorForFailedCall({ httpStatus: 200, retCode: '1008028', message: 'slow down', retryAfterMs: 2000 });
    expect(error.retryAfterMs).toBe(2000);
    expect(error.message).toContain('slow down');
  });

  it('retries only 1008004 and 1008028 among TPNS codes', () => {
    const codes = ['1008001', '1008002', '1008003', '1008004', '1008006', '1008007', '1008028', '1008029', '1008030', '1008031', '1008035'];
    expect(codes.filter(isRetryableCode)).toEqual(['1008004', '1008028']);
  });
});
