/**
 * The emulator's own view of TPNS request bodies (zod/mini), independent of the client's.
 * Presence of the required fields is checked first (1008002), values second (1008007); messages
 * are set here because zod/mini ships no locale (its default message is "Invalid input").
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import { z } from 'zod/mini';

/** TPNS caps `token_accounts` at 20 tokens per call (batchoperate page). */
export const MAX_TOKEN_ACCOUNTS = 20;

/** Tokens: non-empty printable ASCII, no spaces; push API tokens are <= 36, older systems used up to 64. */
export const tokenSchema = z.string('must be a string').check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(64, 'must be at most 64 characters'),
  z.regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
);
/** Accounts: 2-100 characters (TPNS refuses single-character accounts), no control characters. */
export const accountSchema = z.string('must be a string').check(
  z.minLength(2, 'must be at least 2 characters'),
  z.maxLength(100, 'must be at most 100 characters'),
  // eslint-disable-next-line no-control-regex
  z.regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters'),
);
export const accountTypeSchema = z.int('must be an integer').check(z.nonnegative('must not be negative'));
export const platformSchema = z.enum(['android', 'ios'], 'must be "android" or "ios"');

export const accountListItemSchema = z.object(
  { account: accountSchema, account_type: z.optional(accountTypeSchema) },
  'must be an object {account, account_type?}',
);
export type AccountRefBody = z.infer<typeof accountListItemSchema>;

const nonEmptyList = <T extends z.core.SomeType>(item: T) =>
  z.array(item, 'must be an array').check(z.minLength(1, 'must not be empty'));

const tokenAccountsSchema = nonEmptyList(
  z.object({ token: tokenSchema, account_list: nonEmptyList(accountListItemSchema) }, 'must be an object {token, account_list}'),
).check(z.maxLength(MAX_TOKEN_ACCOUNTS, `must have at most ${MAX_TOKEN_ACCOUNTS} tokens`));
const tokenListSchema = nonEmptyList(tokenSchema);
const accountListSchema = nonEmptyList(accountListItemSchema);

/** operator_type of batchoperate: 1-5 (1 is treated as 2). */
export const batchOperatorTypeSchema = z.int('must be an integer').check(z.gte(1, 'must be 1-5'), z.lte(5, 'must be 1-5'));
export const queryOperatorTypeSchema = z.int('must be an integer').check(z.gte(1, 'must be 1 or 2'), z.lte(2, 'must be 1 or 2'));

const tokenAccountsBody = z.object({ operator_type: z.literal([1, 2, 3], 'must be 1-5'), platform: platformSchema, token_accounts: tokenAccountsSchema });
const tokenListBody = z.object({ operator_type: z.literal(4, 'must be 1-5'), platform: platformSchema, token_list: tokenListSchema });
const accountListBody = z.object({ operator_type: z.literal(5, 'must be 1-5'), platform: platformSchema, account_list: accountListSchema });
export type BatchOperateBody = z.infer<typeof tokenAccountsBody> | z.infer<typeof tokenListBody> | z.infer<typeof accountListBody>;

/** Per operator_type: the list field it needs (absent -> 1008002) and the schema of the whole body. */
export const BATCH_OPERATIONS = {
  1: { listField: 'token_accounts', schema: tokenAccountsBody },
  2: { listField: 'token_accounts', schema: tokenAccountsBody },
  3: { listField: 'token_accounts', schema: tokenAccountsBody },
  4: { listField: 'token_list', schema: tokenListBody },
  5: { listField: 'account_list', schema: accountListBody },
} as const;

const accountsQueryBody = z.object({ operator_type: z.literal(1, 'must be 1 or 2'), account_list: accountListSchema });
const tokensQueryBody = z.object({ operator_type: z.literal(2, 'must be 1 or 2'), token_list: tokenListSchema });
export type QueryBody = z.infer<typeof accountsQueryBody> | z.infer<typeof tokensQueryBody>;

export const QUERY_OPERATIONS = {
  1: { listField: 'account_list', schema: accountsQueryBody },
  2: { listField: 'token_list', schema: tokensQueryBody },
} as const;
