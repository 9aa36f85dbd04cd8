/**
 * Account deletion: op 5 on every configured platform (GDPR/PIPL erasure).
 * DELETE /v1/me, POST /v1/admin/delete-accounts, EventBridge `account.deleted`, Auth0 `sdu` log events.
 */
import { bulkDeleteAccounts, deleteAccount } from '../lib/commands/delete-account.js';
import { bulkDeleteAccountsInputSchema } from '../lib/commands/schemas.js';
import { bodyOf, callerRequest } from './handler/inputs.js';
import { lambdaHandler, route } from './handler/index.js';

export const handler = lambdaHandler({
  routes: {
    'DELETE /v1/me': route({ access: 'user', takesBody: false, input: callerRequest, run: deleteAccount }),
    'POST /v1/admin/delete-accounts': route({
      access: 'admin',
      takesBody: true,
      input: bodyOf(bulkDeleteAccountsInputSchema),
      run: bulkDeleteAccounts,
    }),
  },
  events: {
    'account.deleted': (runtime, { detail }, meta) => deleteAccount(runtime, detail, meta),
    'auth0.sdu': (runtime, { account }, meta) => deleteAccount(runtime, { account }, meta),
  },
});
