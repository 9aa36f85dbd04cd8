/**
 * The TPNS account API client: one typed method per operation; validation, chunking, signing,
 * retries and per-item results inside.
 *
 *     const tpns = new TpnsClient({ apps: { android: { accessId, secretKey } }, region: 'guangzhou' });
 *     const { failed } = await tpns.bind('android', [{ token, account: 'user-42' }]);
 *
 * Errors (see TpnsAccountApi): bad input throws TpnsValidationError before anything is sent;
 * permanent call-level errors throw a named TpnsError; retryable call-level errors that outlast
 * the retry budget come back as `retryable: true` outcomes of the affected items (ops 2-5) or
 * throw TpnsUnavailableError/TpnsRateLimitError (queries, which have no per-item outcome).
 */
import pLimit from 'p-limit';
import type * as z from 'zod/mini';
import { chunk, groupByToken } from './token-entries.js';
import { classifyItemStatus, errorForFailedCall, isPerItemVerdict, isSuccessCode, badResponse } from './classify.js';
import { resolveClientSettings } from './config.js';
import type { ClientSettings } from './config.js';
import { BATCH_OP, BATCH_OPERATE_PATH, MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL, QUERY_OP, QUERY_PATH, TPNS_CODE } from './constants.js';
import { TpnsError, TpnsPlatformNotConfiguredError, TpnsValidationError } from './errors.js';
import { withRetry } from './retry.js';
import {
  batchOperateRequestSchema,
  batchOperateResponseSchema,
  queryRequestSchema,
  queryResponseSchema,
  readEnvelope,
} from './schemas.js';
import type { BatchOperateRequest, QueryRequest, QueryResponse, WireAccount } from './schemas.js';
import { authHeaders } from './sign.js';
import type { TokenEntry } from './token-entries.js';
import type { HttpReply } from './transport.js';
import { postJson } from './transport.js';
import type {
  AccountRef,
  AccountTokens,
  AppCredentials,
  Binding,
  CallOptions,
  ItemOutcome,
  OperationResult,
  Platform,
  TokenAccounts,
  TokenAccountsResult,
  TpnsAccountApi,
  TpnsClientEvent,
  TpnsClientOptions,
} from './types.js';
import { accountRefSchema, bindingSchema, tokenAccountsSchema, tokenSchema, validateItems, validatePlatform } from './validate.js';

/** The verdict for one wire item, before it is mapped back to the input items it stands for. */
type ItemStatus = Omit<ItemOutcome, 'index' | 'token' | 'account'>;

/** One item as sent (a token, an account, a token entry) and the input indexes it answers for. */
interface WireUnit<W> {
  wire: W;
  indexes: number[];
}

/** Which input an outcome names: `{ token }` or `{ account }`. */
type Subject = { token: string } | { account: string };

interface Call {
  platform: Platform;
  path: string;
  operatorType: number;
  items: number;
  body: BatchOperateRequest | QueryRequest;
}

/** HTTP calls made for one operation, retries included. */
interface CallCounter {
  calls: number;
}

export class TpnsClient implements TpnsAccountApi {
  readonly platforms: readonly Platform[];
  readonly tokensPerCall: number;
  readonly concurrency: number;
  // Private (#) fields are not enumerable: credentials never reach JSON.stringify, util.inspect or logs.
  readonly #settings: ClientSettings;
  readonly #onEvent: ((event: TpnsClientEvent) => void) | undefined;

  constructor(options: TpnsClientOptions) {
    this.#settings = resolveClientSettings(options);
    this.#onEvent = options.onEvent;
    this.platforms = Object.freeze(Object.keys(this.#settings.apps) as Platform[]);
    this.tokensPerCall = Math.min(this.#settings.chunkSize, MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL);
    this.concurrency = this.#settings.concurrency;
  }

  /** op 2: each token now belongs to this account only (per account type; see token-entries.ts for duplicates). */
  async bind(platform: Platform, bindings: Binding[], options: CallOptions = {}): Promise<OperationResult> {
    const items = this.#validate(platform, bindingSchema, bindings, 'bindings');
    const { entries, supersededBy } = groupByToken(
      items.map((binding) => ({ token: binding.token, accounts: [binding] })),
      'overwrite',
    );
    const result = await this.#tokenAccountsOperation(platform, BATCH_OP.overwriteBind, entries, items, options);
    for (const [index, laterIndex] of supersededBy) {
      const outcome = result.outcomes[index];
      if (outcome) outcome.message = `superseded by item ${laterIndex} (same token and account type): ${outcome.message}`;
    }
    return result;
  }

  /** op 3: remove the listed accounts from each token. */
  async removeAccounts(platform: Platform, items: TokenAccounts[], options: CallOptions = {}): Promise<OperationResult> {
    const valid = this.#validate(platform, tokenAccountsSchema, items, 'items');
    const { entries } = groupByToken(valid, 'union');
    return this.#tokenAccountsOperation(platform, BATCH_OP.removeAccounts, entries, valid, options);
  }

  /** op 4: remove every account from each token (sign-out). */
  async unbindTokens(platform: Platform, tokens: string[], options: CallOptions = {}): Promise<OperationResult> {
    const valid = this.#validate(platform, tokenSchema, tokens, 'tokens');
    return this.#batchOperation(
      platform,
      BATCH_OP.unbindTokens,
      valid.map((token, index) => ({ wire: token, indexes: [index] })),
      this.#settings.chunkSize,
      (token_list) => ({ operator_type: BATCH_OP.unbindTokens, platform, token_list }),
      valid.map((token) => ({ token })),
      options,
    );
  }

  /** op 5: remove every token from each account (account deletion). */
  async deleteAccounts(platform: Platform, accounts: AccountRef[], options: CallOptions = {}): Promise<OperationResult> {
    const valid = this.#validate(platform, accountRefSchema, accounts, 'accounts');
    return this.#batchOperation(
      platform,
      BATCH_OP.deleteAccounts,
      valid.map((ref, index) => ({ wire: toWireAccount(ref), indexes: [index] })),
      this.#settings.chunkSize,
      (account_list) => ({ operator_type: BATCH_OP.deleteAccounts, platform, account_list }),
      valid.map(({ account }) => ({ account })),
      options,
    );
  }

  /** query op 1: tokens of each account, in input order; accounts with none get `tokens: []`. */
  async tokensOfAccounts(platform: Platform, accounts: AccountRef[], options: CallOptions = {}): Promise<AccountTokens[]> {
    const valid = this.#validate(platform, accountRefSchema, accounts, 'accounts');
    const replies = await this.#queryChunks(platform, valid, options, (refs) => ({
      operator_type: QUERY_OP.tokensOfAccounts,
      account_list: refs.map(toWireAccount),
    }));
    const answers = replies.flatMap((reply) => reply.account_tokens ?? []);
    return valid.map((ref) => {
      const type = ref.accountType ?? 0;
      const answer = answers.find(
        (entry) => entry.account === ref.account && (entry.account_type === undefined || entry.account_type === type),
      );
      return { ...ref, tokens: answer?.token_list ?? [] };
    });
  }

  /** query op 2: accounts of each token, in input order; tokens with none get `accounts: []`. */
  async accountsOfTokens(platform: Platform, tokens: string[], options: CallOptions = {}): Promise<TokenAccountsResult[]> {
    const valid = this.#validate(platform, tokenSchema, tokens, 'tokens');
    const replies = await this.#queryChunks(platform, valid, options, (token_list) => ({
      operator_type: QUERY_OP.accountsOfTokens,
      token_list,
    }));
    const byToken = new Map(replies.flatMap((reply) => reply.token_accounts ?? []).map((entry) => [entry.token, entry]));
    return valid.map((token) => ({
      token,
      accounts: (byToken.get(token)?.account_list ?? []).map(({ account, account_type }) =>
        account_type === undefined ? { account } : { account, accountType: account_type },
      ),
    }));
  }

  // --- operations ---------------------------------------------------------------------------

  /** Ops 2/3: one `token_accounts` entry per token, at most 20 per call (TPNS's hard limit). */
  #tokenAccountsOperation(
    platform: Platform,
    operatorType: typeof BATCH_OP.overwriteBind | typeof BATCH_OP.removeAccounts,
    entries: TokenEntry[],
    items: readonly { token: string }[],
    options: CallOptions,
  ): Promise<OperationResult> {
    return this.#batchOperation(
      platform,
      operatorType,
      entries.map(({ indexes, ...wire }) => ({ wire, indexes })),
      this.tokensPerCall,
      (token_accounts) => ({ operator_type: operatorType, platform, token_accounts }),
      items.map(({ token }) => ({ token })),
      options,
    );
  }

  /** Sends `units` in chunks with bounded concurrency and maps every status back to its input items. */
  async #batchOperation<W>(
    platform: Platform,
    operatorType: number,
    units: WireUnit<W>[],
    chunkSize: number,
    toBody: (wires: W[]) => BatchOperateRequest,
    subjects: Subject[],
    options: CallOptions,
  ): Promise<OperationResult> {
    const counter: CallCounter = { calls: 0 };
    const outcomes: ItemOutcome[] = new Array<ItemOutcome>(subjects.length);
    const limit = pLimit(this.#settings.concurrency);
    await limit.map(chunk(units, chunkSize), async (units) => {
      const call = { platform, path: BATCH_OPERATE_PATH, operatorType, items: units.length, body: toBody(units.map((unit) => unit.wire)) };
      const statuses = await this.#sendBatch(call, counter, options);
      units.forEach((unit, position) => {
        const status = statuses[position] as ItemStatus;
        for (const index of unit.indexes) outcomes[index] = { index, ...subjects[index], ...status };
      });
    });
    const failed = outcomes
      .filter((outcome) => !outcome.ok)
      .map(({ token, account, code, message, retryable }) => ({
        ...(token === undefined ? { account } : { token }),
        code,
        message,
        retryable,
      }));
    return { applied: outcomes.length - failed.length, failed, outcomes, calls: counter.calls };
  }

  /** One batchoperate call with retries; a retryable failure that outlasts the budget becomes every item's status. */
  async #sendBatch(call: Call, counter: CallCounter, options: CallOptions): Promise<ItemStatus[]> {
    try {
      return await this.#send(call, counter, options, (reply) => batchStatuses(reply, call.items));
    } catch (error) {
      if (!(error instanceof TpnsError) || !error.retryable) throw error;
      const status = { ok: false, code: error.code, message: error.message, retryable: true, ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }) };
      return Array.from({ length: call.items }, () => ({ ...status }));
    }
  }

  /** Query calls, chunked; a query has no per-item outcome, so any failure left after retries throws. */
  async #queryChunks<T>(
    platform: Platform,
    items: T[],
    options: CallOptions,
    toBody: (items: T[]) => QueryRequest,
  ): Promise<QueryResponse[]> {
    const counter: CallCounter = { calls: 0 };
    const limit = pLimit(this.#settings.concurrency);
    return limit.map(chunk(items, this.#settings.chunkSize), (part) => {
      const body = toBody(part);
      const call = { platform, path: QUERY_PATH, operatorType: body.operator_type, items: part.length, body };
      return this.#send(call, counter, options, queryReply);
    });
  }

  // --- one call -------------------------------------------------------------------------------

  /** Signs and posts `call.body`, retrying retryable failures within the budget; `interpret` judges each reply. */
  async #send<T>(call: Call, counter: CallCounter, options: CallOptions, interpret: (reply: HttpReply) => T): Promise<T> {
    checkRequest(call.body);
    const app = this.#app(call.platform);
    const body = JSON.stringify(call.body);
    const { platform, path, operatorType, items } = call;
    const policy = { ...this.#settings.retry, budgetMs: options.retryBudgetMs ?? this.#settings.retry.budgetMs };

    return withRetry(
      async (attempt) => {
        this.#emit({ type: 'request', platform, path, operatorType, items, attempt });
        counter.calls += 1;
        const started = performance.now();
        const reply = await postJson({
          url: this.#settings.baseUrl + path,
          headers: authHeaders(this.#settings.auth, app, body, Date.now()),
          body,
          timeoutMs: this.#settings.requestTimeoutMs,
          signal: options.signal,
        });
        const { retCode, message } = readEnvelope(reply.body);
        this.#emit({
          type: 'response',
          platform,
          path,
          operatorType,
          items,
          attempt,
          latencyMs: Math.round(performance.now() - started),
          httpStatus: reply.status,
          // A reply without a ret_code (an HTTP 5xx page) is known by its status.
          retCode: retCode ?? `HTTP_${reply.status}`,
        });
        if (isAccepted(reply, retCode)) return interpret(reply);
        throw errorForFailedCall({
          platform,
          httpStatus: reply.status,
          ...(retCode === undefined ? {} : { retCode }),
          ...(message === undefined ? {} : { message: withoutSecret(message, app) }),
          ...(reply.retryAfterMs === undefined ? {} : { retryAfterMs: reply.retryAfterMs }),
        });
      },
      {
        policy,
        signal: options.signal,
        onRetry: ({ attempt, delayMs, error }) =>
          this.#emit({ type: 'retry', platform, path, operatorType, attempt, delayMs, code: error.code }),
        ...(options.notAfter === undefined ? {} : { startWithinMs: options.notAfter - Date.now() }),
      },
    );
  }

  /** Everything checked before a call: the platform, every item, and that the platform has credentials. */
  #validate<T>(platform: Platform, schema: z.ZodMiniType<T>, items: unknown, name: string): T[] {
    validatePlatform(platform);
    const valid = validateItems(schema, items, name);
    this.#app(platform);
    return valid;
  }

  #app(platform: Platform): AppCredentials {
    const app = this.#settings.apps[platform];
    if (!app) throw new TpnsPlatformNotConfiguredError(platform);
    return app;
  }

  #emit(event: TpnsClientEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // An observer must not turn a TPNS call into a failure.
    }
  }
}

/** A reply the operation can read: HTTP 2xx with success, a per-item verdict, or (query) "nothing found". */
function isAccepted(reply: HttpReply, retCode: string | undefined): boolean {
  if (reply.status < 200 || reply.status > 299 || retCode === undefined) return false;
  return isSuccessCode(retCode) || isPerItemVerdict(retCode) || retCode === TPNS_CODE.notFound;
}

/**
 * Per-item statuses of a batchoperate reply. A `result` whose length differs from the request
 * is retryable BAD_RESPONSE (see classify.ts); a plain success with no `result` at all means
 * every item succeeded.
 */
function batchStatuses(reply: HttpReply, expected: number): ItemStatus[] {
  const parsed = batchOperateResponseSchema.safeParse(reply.body);
  if (!parsed.success) throw badResponse('batchoperate reply has an unexpected shape', reply.status);
  const { retCode = '' } = readEnvelope(reply.body);
  const result = parsed.data.result ?? (isSuccessCode(retCode) ? Array.from({ length: expected }, () => TPNS_CODE.ok) : []);
  if (result.length !== expected) {
    throw badResponse(`result has ${result.length} statuses for ${expected} items`, reply.status);
  }
  return result.map(classifyItemStatus);
}

/** A query reply; 10110008 ("does not exist") is an empty answer. */
function queryReply(reply: HttpReply): QueryResponse {
  const parsed = queryResponseSchema.safeParse(reply.body);
  if (!parsed.success) throw badResponse('query reply has an unexpected shape', reply.status);
  const { retCode } = readEnvelope(reply.body);
  if (retCode === TPNS_CODE.notFound) return { ...parsed.data, account_tokens: [], token_accounts: [] };
  return parsed.data;
}

/** Last line of defence: a request body TPNS would reject is a bug here, never sent. */
function checkRequest(body: BatchOperateRequest | QueryRequest): void {
  const schema = 'platform' in body ? batchOperateRequestSchema : queryRequestSchema;
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new TpnsValidationError(
      parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    );
  }
}

function toWireAccount(ref: AccountRef): WireAccount {
  return { account: ref.account, account_type: ref.accountType ?? 0 };
}

/** TPNS's err_msg is echoed in error messages; make sure it cannot carry our SecretKey along. */
function withoutSecret(message: string, app: AppCredentials): string {
  return message.replaceAll(app.secretKey, '[redacted]');
}
