/**
 * The two TPNS account endpoints as plain functions: parsed, validated body in, TPNS answer out.
 * batchoperate answers in snake_case (`ret_code`, `err_msg`), query in camelCase (`retCode`,
 * `errMsg`) — as Tencent's own pages show them.
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import type { EmulatorApp, EmulatorPlatform } from './auth.js';
import {
  BATCH_OPERATIONS,
  QUERY_OPERATIONS,
  batchOperatorTypeSchema,
  queryOperatorTypeSchema,
  type AccountRefBody,
  type BatchOperateBody,
  type QueryBody,
} from './schemas.js';
import type { RequestedItem } from './log.js';
import type { AccountKey, ApplyOrder, BindingStore, Mutation } from './state.js';

export const CODE = {
  ok: 0,
  parseError: 1008001,
  missingParameter: 1008002,
  authFailed: 1008003,
  internalError: 1008004,
  invalidToken: 1008006,
  validationFailed: 1008007,
  batchPartlyFailed: 1008026,
  batchFullyFailed: 1008027,
  tooFast: 1008028,
  notFound: 10110008,
} as const;

export type TpnsRoute = 'batchoperate' | 'query';

export interface BatchOperateAnswer {
  ret_code: number;
  err_msg: string;
  result?: string[];
}

export interface QueryAnswer {
  retCode: number;
  errMsg: string;
  result?: string[];
  account_tokens?: { account: string; account_type?: number; token_list: string[] }[];
  token_accounts?: { token: string; account_list: { account: string; account_type: number }[] }[];
}

/** The platform-specific store and rules a call runs against. */
export interface OperationContext {
  app: EmulatorApp;
  store: BindingStore;
  invalidTokens: ReadonlySet<string>;
  /** When the next task is applied; called once per task, so each item can get its own delay. */
  timing: () => { delayMs: number; order: ApplyOrder };
}

/** A call-level error in the route's own field names. */
export function tpnsErrorAnswer(route: TpnsRoute, code: number, message: string): BatchOperateAnswer | QueryAnswer {
  return route === 'query' ? { retCode: code, errMsg: message } : { ret_code: code, err_msg: message };
}

export type Checked<T> = { ok: true; body: T } | { ok: false; code: number; message: string };

interface Issue {
  path: PropertyKey[];
  message: string;
}
interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: readonly Issue[] } };
}
interface Operation<T> {
  listField: string;
  schema: Schema<T>;
}

const invalid = (issue: Issue | undefined): { ok: false; code: number; message: string } => ({
  ok: false,
  code: CODE.validationFailed,
  message: `invalid parameter ${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
});

/**
 * The order TPNS reports problems in: not an object (1008001), `operator_type` absent (1008002)
 * or out of range (1008007), the operation's required fields absent (1008002), then the first
 * invalid value, named by its path (1008007).
 */
function check<T>(
  body: unknown,
  operatorType: Schema<number>,
  operations: Readonly<Record<number, Operation<T>>>,
  required: readonly string[],
): Checked<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, code: CODE.parseError, message: 'request body must be a JSON object' };
  }
  const record = body as Record<string, unknown>;
  const absent = (field: string): boolean => record[field] === undefined || record[field] === null;
  if (absent('operator_type')) return { ok: false, code: CODE.missingParameter, message: 'missing parameter: operator_type' };
  const op = operatorType.safeParse(record.operator_type);
  if (!op.success) return invalid({ ...op.error.issues[0], path: ['operator_type'], message: op.error.issues[0]?.message ?? 'invalid' });
  const operation = operations[op.data];
  if (!operation) return invalid({ path: ['operator_type'], message: 'unsupported operator_type' });
  const missing = [...required, operation.listField].find(absent);
  if (missing) return { ok: false, code: CODE.missingParameter, message: `missing parameter: ${missing}` };
  const parsed = operation.schema.safeParse(body);
  return parsed.success ? { ok: true, body: parsed.data } : invalid(parsed.error.issues[0]);
}

export function checkBatchOperate(body: unknown, platform: EmulatorPlatform): Checked<BatchOperateBody> {
  const checked = check<BatchOperateBody>(body, batchOperatorTypeSchema, BATCH_OPERATIONS, ['platform']);
  if (checked.ok && checked.body.platform !== platform) {
    return {
      ok: false,
      code: CODE.validationFailed,
      message: `platform "${checked.body.platform}" does not match the ${platform} app that signed the request`,
    };
  }
  return checked;
}

export function checkQuery(body: unknown): Checked<QueryBody> {
  return check<QueryBody>(body, queryOperatorTypeSchema, QUERY_OPERATIONS, []);
}

const keyOf = (ref: AccountRefBody): AccountKey => ({ account: ref.account, accountType: ref.account_type ?? 0 });

/** What a valid call asks for, item by item in request order, account types defaulted to 0 as TPNS does. */
export function requestedItems(body: BatchOperateBody | QueryBody): RequestedItem[] {
  if ('token_accounts' in body) return body.token_accounts.map(({ token, account_list }) => ({ token, accounts: account_list.map(keyOf) }));
  if ('token_list' in body) return body.token_list.map((token) => ({ token }));
  return body.account_list.map(keyOf);
}

/** Applies ops 1-5 (op 1 is handled as op 2, Tencent's rule since 2020-10-26). One status per item. */
export function batchOperate(body: BatchOperateBody, context: OperationContext): BatchOperateAnswer {
  const { store, invalidTokens, timing } = context;
  // Each item is its own task at Tencent, so each gets its own timing (and may overtake another).
  const submit = (mutation: Mutation): void => {
    const { delayMs, order } = timing();
    store.submit(mutation, delayMs, order);
  };
  const tokenStatus = (token: string, mutation: Mutation): string => {
    if (invalidTokens.has(token)) return String(CODE.invalidToken);
    submit(mutation);
    return '0';
  };
  let result: string[];
  switch (body.operator_type) {
    case 1:
    case 2:
    case 3: {
      const kind = body.operator_type === 3 ? 'remove-accounts' : 'bind';
      result = body.token_accounts.map(({ token, account_list }) => tokenStatus(token, { kind, token, accounts: account_list.map(keyOf) }));
      break;
    }
    case 4:
      result = body.token_list.map((token) => tokenStatus(token, { kind: 'unbind-token', token }));
      break;
    case 5:
      result = body.account_list.map((ref) => {
        submit({ kind: 'delete-account', account: keyOf(ref) });
        return '0';
      });
      break;
  }
  const failed = result.filter((status) => status !== '0').length;
  if (failed === 0) return { ret_code: CODE.ok, err_msg: 'ok', result };
  if (failed === result.length) return { ret_code: CODE.batchFullyFailed, err_msg: 'batch fully failed', result };
  return { ret_code: CODE.batchPartlyFailed, err_msg: 'batch partly failed', result };
}

/** Query op 1 (tokens of accounts) and op 2 (accounts of tokens), answered in request order. */
export function query(body: QueryBody, context: OperationContext): QueryAnswer {
  const { store } = context;
  const found = (count: number): string => (count > 0 ? '0' : String(CODE.notFound));
  let answer: QueryAnswer;
  if (body.operator_type === 1) {
    const account_tokens = body.account_list.map((ref) => ({
      account: ref.account,
      ...(ref.account_type === undefined ? {} : { account_type: ref.account_type }),
      token_list: store.tokensOf(keyOf(ref)),
    }));
    answer = { retCode: CODE.ok, errMsg: 'ok', result: account_tokens.map((entry) => found(entry.token_list.length)), account_tokens };
  } else {
    const token_accounts = body.token_list.map((token) => ({
      token,
      account_list: store.accountsOf(token).map(({ account, accountType }) => ({ account, account_type: accountType })),
    }));
    answer = { retCode: CODE.ok, errMsg: 'ok', result: token_accounts.map((entry) => found(entry.account_list.length)), token_accounts };
  }
  if (answer.result?.every((status) => status !== '0')) {
    return { ...answer, retCode: CODE.notFound, errMsg: 'queried token/account does not exist' };
  }
  return answer;
}
