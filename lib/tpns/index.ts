/** Public surface of the TPNS account client. */
export { TpnsClient } from './client.js';
export {
  BATCH_OPERATE_PATH,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY_POLICY,
  INTERACTIVE_RETRY_BUDGET_MS,
  MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL,
  QUERY_PATH,
  TPNS_CODE,
  TPNS_HOSTS,
  WORKER_RETRY_BUDGET_MS,
} from './constants.js';
export {
  TpnsAppError,
  TpnsAuthError,
  TpnsBadRequestError,
  TpnsConfigError,
  TpnsError,
  TpnsPlatformNotConfiguredError,
  TpnsRateLimitError,
  TpnsUnavailableError,
  TpnsValidationError,
} from './errors.js';
export type { ValidationIssue } from './errors.js';
export { basicAuthorization, signRequest } from './sign.js';
export { accountSchema, accountTypeSchema, platformSchema, tokenSchema } from './validate.js';
export * from './types.js';
