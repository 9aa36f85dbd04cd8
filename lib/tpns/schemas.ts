/**
 * Wire shapes of TPNS's account API. Requests are checked before sending (the item rules are
 * validate.ts's, so the two cannot drift); replies are parsed leniently where Tencent's pages
 * disagree: `ret_code`/`err_msg` or `retCode`/`errMsg`, codes as numbers or strings.
 */
import * as z from 'zod/mini';
import { BATCH_OP, MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL, QUERY_OP } from './constants.js';
import { accountSchema, accountTypeSchema, platformSchema, tokenSchema } from './validate.js';

const wireAccount = z.object({ account: accountSchema, account_type: z.optional(accountTypeSchema) });
const nonEmpty = <T extends z.ZodMiniType>(item: T) => z.array(item).check(z.minLength(1));
const tokenAccountsList = z.array(z.object({ token: tokenSchema, account_list: nonEmpty(wireAccount) })).check(
  z.minLength(1),
  z.maxLength(MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL),
);

export const batchOperateRequestSchema = z.discriminatedUnion('operator_type', [
  z.object({
    operator_type: z.union([z.literal(BATCH_OP.overwriteBind), z.literal(BATCH_OP.removeAccounts)]),
    platform: platformSchema,
    token_accounts: tokenAccountsList,
  }),
  z.object({ operator_type: z.literal(BATCH_OP.unbindTokens), platform: platformSchema, token_list: nonEmpty(tokenSchema) }),
  z.object({ operator_type: z.literal(BATCH_OP.deleteAccounts), platform: platformSchema, account_list: nonEmpty(wireAccount) }),
]);

export const queryRequestSchema = z.discriminatedUnion('operator_type', [
  z.object({ operator_type: z.literal(QUERY_OP.tokensOfAccounts), account_list: nonEmpty(wireAccount) }),
  z.object({ operator_type: z.literal(QUERY_OP.accountsOfTokens), token_list: nonEmpty(tokenSchema) }),
]);

export type WireAccount = z.infer<typeof wireAccount>;
export type BatchOperateRequest = z.infer<typeof batchOperateRequestSchema>;
export type QueryRequest = z.infer<typeof queryRequestSchema>;

/** Codes arrive as numbers (`"ret_code": 0`) or strings (`"result": ["0"]`); the client uses strings. */
const code = z.pipe(z.union([z.number(), z.string()]), z.transform(String));
const replyAccountType = z.pipe(z.union([z.number(), z.string()]), z.transform(Number));

/** Fields every TPNS reply carries, in either casing. */
const envelope = {
  ret_code: z.optional(code),
  retCode: z.optional(code),
  err_msg: z.optional(z.nullable(z.string())),
  errMsg: z.optional(z.nullable(z.string())),
};

export const batchOperateResponseSchema = z.looseObject({ ...envelope, result: z.nullish(z.array(code)) });

const replyAccount = z.looseObject({ account: z.string(), account_type: z.optional(replyAccountType) });

export const queryResponseSchema = z.looseObject({
  ...envelope,
  account_tokens: z.nullish(
    z.array(z.looseObject({ account: z.string(), account_type: z.optional(replyAccountType), token_list: z.nullish(z.array(z.string())) })),
  ),
  token_accounts: z.nullish(z.array(z.looseObject({ token: z.string(), account_list: z.nullish(z.array(replyAccount)) }))),
});

export type QueryResponse = z.infer<typeof queryResponseSchema>;

const replyEnvelopeSchema = z.looseObject(envelope);

/** The ret code and message of any reply (either casing); empty when the body is not a TPNS reply. */
export function readEnvelope(body: unknown): { retCode?: string; message?: string } {
  const parsed = replyEnvelopeSchema.safeParse(body);
  if (!parsed.success) return {};
  const reply = parsed.data;
  const retCode = reply.ret_code ?? reply.retCode;
  const message = reply.err_msg ?? reply.errMsg;
  return { ...(retCode === undefined ? {} : { retCode }), ...(message ? { message } : {}) };
}
