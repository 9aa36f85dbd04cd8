/**
 * Account deletion: op 5 on every configured platform (GDPR/PIPL erasure).
 * DELETE /v1/me, POST /v1/admin/delete-accounts, EventBridge `account.deleted`, Auth0 `sdu` log events.
 */
import { bulkDeleteAccounts, deleteAccount } from '../lib/commands/delete-account.js';
import { bulkDeleteAccountsInputSchema } from '../lib/commands/schemas.js';
import { accountTypeParam, lambdaHandler, route } from './handler/index.js';

export const handler = lambdaHandler({
  routes: {
    'DELETE /v1/me': route({ access: 'user', query: { accountType: accountTypeParam }, run: deleteAccount }),
    'POST /v1/admin/delete-accounts': route({ access: 'admin', body: bulkDeleteAccountsInputSchema, run: bulkDeleteAccounts }),
  },
  events: { 'account.deleted': deleteAccount, 'auth0.sdu': deleteAccount },
});
