/**
 * Public types of the TPNS account client. This file is the contract the rest of the product
 * (functions/, lib/commands, bin/ CLI, bench/) is written against: change it only additively.
 *
 * Knows TPNS, nothing about AWS.
 */

/** A TPNS product has one app per platform, each with its own AccessId/SecretKey. */
export type Platform = 'android' | 'ios';
export const PLATFORMS: readonly Platform[] = ['android', 'ios'];

/** The four TPNS access points (data is isolated between them). */
export type Region = 'guangzhou' | 'shanghai' | 'hongkong' | 'singapore';

/** `sign` (HMAC-SHA256 Sign header, recommended) or `basic` (Authorization: Basic). */
export type AuthMode = 'sign' | 'basic';

export interface AppCredentials {
  accessId: string;
  secretKey: string;
}

/** Backoff with full jitter inside a total time budget. */
export interface RetryPolicy {
  /** Total time a call may spend retrying, including waits (ms). Interactive ~2 000, worker ~20 000. */
  budgetMs: number;
  /** First backoff ceiling (ms); doubles each attempt. */
  baseDelayMs: number;
  /** Largest single backoff ceiling (ms). */
  maxDelayMs: number;
}

/** What the client reports about its own work, for logs and metrics (no secrets, no raw bodies). */
export type TpnsClientEvent =
  | { type: 'request'; platform: Platform; path: string; operatorType: number; items: number; attempt: number }
  | {
      type: 'response';
      platform: Platform;
      path: string;
      operatorType: number;
      items: number;
      attempt: number;
      latencyMs: number;
      httpStatus: number;
      retCode: string;
    }
  | {
      type: 'retry';
      platform: Platform;
      path: string;
      operatorType: number;
      attempt: number;
      delayMs: number;
      code: string;
    };

export interface TpnsClientOptions {
  /** Credentials per platform; a platform left out is "not configured". */
  apps: Partial<Record<Platform, AppCredentials>>;
  /** Access point; default `guangzhou`. */
  region?: Region;
  /** Base URL overriding the region host (emulator, proxy), e.g. `http://127.0.0.1:4000`. */
  endpoint?: string;
  /** Default `sign`. */
  auth?: AuthMode;
  /** Items per call for op 4, op 5 and queries (default 20). Op 2/3 are always <= 20 tokens. */
  chunkSize?: number;
  /** Calls in flight at once when an input is split into chunks (default 4). */
  concurrency?: number;
  /** Per-HTTP-request timeout (ms), default 5 000. */
  requestTimeoutMs?: number;
  /** Default retry policy; each call may override `budgetMs`. */
  retry?: Partial<RetryPolicy>;
  /** Observer for logs/metrics. Must not throw. */
  onEvent?: (event: TpnsClientEvent) => void;
}

/** Per-call options. */
export interface CallOptions {
  /** Override the retry budget for this call (ms). 0 = a single attempt. */
  retryBudgetMs?: number;
  signal?: AbortSignal;
  /**
   * Epoch ms after which no request of this call is started (retries included): what was not
   * sent by then comes back retryable, code `SEND_WINDOW_CLOSED`. For a caller whose decision
   * goes stale (it read what to send at a time others can wait out).
   */
  notAfter?: number;
}

export interface AccountRef {
  account: string;
  /** TPNS `account_type`, a non-negative integer; default 0. */
  accountType?: number;
}

/** One token -> account binding (op 2 overwrite). */
export interface Binding extends AccountRef {
  token: string;
}

/** One token with the accounts to remove from it (op 3). */
export interface TokenAccounts {
  token: string;
  accounts: AccountRef[];
}

/**
 * The outcome of one input item, in input order. `code` is TPNS's status string ("0" on
 * success) or a client code for call-level failures that exhausted the retry budget:
 * `HTTP_<status>`, `TIMEOUT`, `NETWORK`, `BAD_RESPONSE` (a reply not in TPNS's shape), or the
 * TPNS ret_code (e.g. "1008028").
 */
export interface ItemOutcome {
  index: number;
  token?: string;
  account?: string;
  ok: boolean;
  code: string;
  message: string;
  /** True when trying again later may succeed (the item should be queued, not dropped). */
  retryable: boolean;
  /** TPNS's Retry-After on the call that failed retryably, when it sent one: do not try sooner. */
  retryAfterMs?: number;
}

/** A failed item as answered to users: `{ token | account, code, message, retryable }`. */
export interface ItemFailure {
  token?: string;
  account?: string;
  code: string;
  message: string;
  retryable: boolean;
}

/** Result of a mutating operation (ops 2-5). */
export interface OperationResult {
  applied: number;
  failed: ItemFailure[];
  /** One per input item, in input order. */
  outcomes: ItemOutcome[];
  /** HTTP calls made to TPNS for this operation, retries included. */
  calls: number;
}

export interface AccountTokens extends AccountRef {
  tokens: string[];
}

export interface TokenAccountsResult {
  token: string;
  accounts: AccountRef[];
}

/**
 * The client's public surface (implemented by `TpnsClient` in `client.ts`).
 *
 * Errors: input that TPNS would reject throws `TpnsValidationError` before any network call.
 * Call-level *permanent* errors (auth, app not paid, bad request) throw a named `TpnsError`
 * subclass. Call-level *retryable* errors that outlast the retry budget do not throw: the
 * affected items come back as outcomes with `retryable: true`, so callers can queue exactly them.
 */
export interface TpnsAccountApi {
  /** Platforms with credentials. */
  readonly platforms: readonly Platform[];
  /** Tokens any op 2, 3 or 4 call can carry (the least of their limits): more are split into several calls. */
  readonly tokensPerCall: number;
  /** Calls in flight at once per operation. */
  readonly concurrency: number;
  /** op 2: each token now belongs to this account only (overwrite). */
  bind(platform: Platform, bindings: Binding[], options?: CallOptions): Promise<OperationResult>;
  /** op 3: remove the listed accounts from each token. */
  removeAccounts(platform: Platform, items: TokenAccounts[], options?: CallOptions): Promise<OperationResult>;
  /** op 4: remove every account from each token (sign-out). */
  unbindTokens(platform: Platform, tokens: string[], options?: CallOptions): Promise<OperationResult>;
  /** op 5: remove every token from each account (account deletion). */
  deleteAccounts(platform: Platform, accounts: AccountRef[], options?: CallOptions): Promise<OperationResult>;
  /** query op 1: tokens of each account. Accounts with none come back with `tokens: []`. */
  tokensOfAccounts(platform: Platform, accounts: AccountRef[], options?: CallOptions): Promise<AccountTokens[]>;
  /** query op 2: accounts of each token. Tokens with none come back with `accounts: []`. */
  accountsOfTokens(platform: Platform, tokens: string[], options?: CallOptions): Promise<TokenAccountsResult[]>;
}
