/**
 * Sign-out: op 4 removes every account from the token (recorded in the ledger, pushed, read back).
 * DELETE /v1/me/devices/{token}?platform=, POST /v1/admin/unbind-tokens, EventBridge `account.logout`.
 */
import { bulkUnbindTokens, signOut } from '../lib/commands/sign-out.js';
import { bulkUnbindTokensInputSchema } from '../lib/commands/schemas.js';
import { platformSchema, tokenSchema } from '../lib/tpns/validate.js';
import { accountTypeParam, lambdaHandler, route } from './handler/index.js';

const query = { platform: platformSchema, accountType: accountTypeParam };

export const handler = lambdaHandler({
  routes: {
    'DELETE /v1/me/devices/{token}': route({ access: 'user', path: { token: tokenSchema }, query, run: signOut }),
    'POST /v1/admin/unbind-tokens': route({ access: 'admin', body: bulkUnbindTokensInputSchema, run: bulkUnbindTokens }),
  },
  events: { 'account.logout': signOut },
});
