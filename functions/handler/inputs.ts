/** zod/mini pieces shared by the routes' input schemas (path and query values arrive as strings). */
import * as z from 'zod/mini';
import type { AccountRefInput } from '../../lib/commands/schemas.js';
import { accountSchema, accountTypeSchema } from '../../lib/tpns/validate.js';

/** `?accountType=3`: digits, then TPNS's own rule. */
export const accountTypeParam = z.pipe(
  z.pipe(z.string().check(z.regex(/^\d{1,9}$/, 'must be a non-negative integer')), z.transform(Number)),
  accountTypeSchema,
);

/** The whole JSON body is the command input (admin routes). */
export const bodyOf = <T>(schema: z.ZodMiniType<T>) =>
  z.pipe(
    z.object({ body: schema }),
    z.transform(({ body }) => body),
  );

/** The caller (account from the JWT) with an optional `?accountType=`. */
export const callerRequest = z.pipe(
  z.object({ account: accountSchema, query: z.object({ accountType: z.optional(accountTypeParam) }) }),
  z.transform(({ account, query }): AccountRefInput => ({ account, ...query })),
);
