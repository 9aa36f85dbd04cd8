/**
 * TPNS's numbers, in one place, each with where it comes from (see docs/tpns-account-api.md in
 * the shared product docs and Tencent's error-code table).
 */
import type { Region, RetryPolicy } from './types.js';

/** One access point per region; data is isolated between them (wrong host -> 1008035). */
export const TPNS_HOSTS: Readonly<Record<Region, string>> = {
  guangzhou: 'api.tpns.tencent.com',
  shanghai: 'api.tpns.sh.tencent.com',
  hongkong: 'api.tpns.hk.tencent.com',
  singapore: 'api.tpns.sgp.tencent.com',
};

/** Tencent's default access point for apps created without choosing one. */
export const DEFAULT_REGION: Region = 'guangzhou';

export const BATCH_OPERATE_PATH = '/v3/device/account/batchoperate';
export const QUERY_PATH = '/v3/device/account/query';

/** `operator_type` of batchoperate. Op 1 (append) is withdrawn: Tencent treats it as op 2. */
export const BATCH_OP = {
  overwriteBind: 2,
  removeAccounts: 3,
  unbindTokens: 4,
  deleteAccounts: 5,
} as const;

/** `operator_type` of query. */
export const QUERY_OP = {
  tokensOfAccounts: 1,
  accountsOfTokens: 2,
} as const;

/** Published hard limit: "每次调用最多允许设置20个 Token" for ops 1-3. */
export const MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL = 20;

/** No limit is published for op 4/5/query lists; 20 matches the one limit Tencent does state. */
export const DEFAULT_CHUNK_SIZE = 20;

/** Calls in flight per operation: enough to hide latency, low enough not to trip 1008028. */
export const DEFAULT_CONCURRENCY = 4;

/** TPNS answers in well under a second; 5 s means "this connection is not coming back". */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/** A user is waiting (API handler): give up quickly and let the queue finish the job. */
export const INTERACTIVE_RETRY_BUDGET_MS = 2_000;

/** A queue worker can afford to ride out a rate-limit burst before handing the message back. */
export const WORKER_RETRY_BUDGET_MS = 20_000;

/**
 * Default policy: the interactive budget (safe for anyone who did not think about it), first
 * backoff ceiling 200 ms (TPNS's rate limiter is per second), single waits capped at 5 s.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  budgetMs: INTERACTIVE_RETRY_BUDGET_MS,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
};

/** Push API caps tokens at 36 characters, older systems issued up to 64: accept the larger. */
export const MAX_TOKEN_LENGTH = 64;
/** TPNS refuses single-character accounts. */
export const MIN_ACCOUNT_LENGTH = 2;
export const MAX_ACCOUNT_LENGTH = 100;

/** Tencent's server error codes that the client acts on (strings, as they appear in `result`). */
export const TPNS_CODE = {
  ok: '0',
  /** Older pages show "ok" for a successful item. */
  okLegacy: 'ok',
  parseError: '1008001',
  missingParameter: '1008002',
  authFailed: '1008003',
  internalError: '1008004',
  invalidToken: '1008006',
  validationFailed: '1008007',
  batchPartlyFailed: '1008026',
  batchFullyFailed: '1008027',
  tooFast: '1008028',
  tokenInvalid: '1008029',
  appNotPaid: '1008030',
  appDestroyed: '1008031',
  wrongAccessPoint: '1008035',
  /** Query: the token/account does not exist, i.e. an empty answer. */
  notFound: '10110008',
} as const;

/** Codes the client itself gives call-level failures that have no TPNS code. */
export const CLIENT_CODE = {
  timeout: 'TIMEOUT',
  network: 'NETWORK',
  /** A reply that does not match TPNS's documented shape (see classify.ts for why it is retryable). */
  badResponse: 'BAD_RESPONSE',
  validation: 'VALIDATION',
  config: 'CONFIG',
  platformNotConfigured: 'PLATFORM_NOT_CONFIGURED',
  /** `CallOptions.notAfter` passed before the request could start; nothing was sent. */
  sendWindowClosed: 'SEND_WINDOW_CLOSED',
  httpStatus: (status: number): string => `HTTP_${status}`,
} as const;
