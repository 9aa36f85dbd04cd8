/**
 * Sign-out: op 4 removes every account from the token (recorded in the ledger, pushed, read back).
 * DELETE /v1/me/devices/{token}?platform=, POST /v1/admin/unbind-tokens, EventBridge `account.logout`.
 */
import * as z from 'zod/mini';
import { bulkUnbindTokens, signOut } from '../lib/commands/sign-out.js';
import { bulkUnbindTokensInputSchema } from '../lib/commands/schemas.js';
import type { DeviceInput } from '../lib/commands/schemas.js';
import { accountSchema, platformSchema, tokenSchema } from '../lib/tpns/validate.js';
import { accountTypeParam, bodyOf } from './handler/inputs.js';
import { lambdaHandler, route } from './handler/index.js';

const signOutRequest = z.pipe(
  z.object({
    account: accountSchema,
    path: z.object({ token: tokenSchema }),
    query: z.object({ platform: platformSchema, accountType: z.optional(accountTypeParam) }),
  }),
  z.transform(({ account, path, query }): DeviceInput => ({ account, token: path.token, ...query })),
);

export const handler = lambdaHandler({
  routes: {
    'DELETE /v1/me/devices/{token}': route({ access: 'user', takesBody: false, input: signOutRequest, run: signOut }),
    'POST /v1/admin/unbind-tokens': route({
      access: 'admin',
      takesBody: true,
      input: bodyOf(bulkUnbindTokensInputSchema),
      run: bulkUnbindTokens,
    }),
  },
  events: {
    'account.logout': (runtime, { detail }, meta) => signOut(runtime, detail, meta),
  },
});
