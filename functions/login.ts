/**
 * Sign-in: op 2, the device's token now belongs to the signed-in account only.
 * PUT /v1/me/devices/{token}, POST /v1/admin/bindings, EventBridge `account.login`, Cognito Post authentication.
 */
import * as z from 'zod/mini';
import { bulkBind, signIn, signInOrQueue } from '../lib/commands/sign-in.js';
import { bulkBindInputSchema } from '../lib/commands/schemas.js';
import { accountTypeSchema, platformSchema, tokenSchema } from '../lib/tpns/validate.js';
import { lambdaHandler, route } from './handler/index.js';

// Strict: an `account` in the body is refused, not silently ignored (the account is the JWT's).
const body = z.strictObject({ platform: platformSchema, accountType: z.optional(accountTypeSchema) });

export const handler = lambdaHandler({
  routes: {
    'PUT /v1/me/devices/{token}': route({ access: 'user', path: { token: tokenSchema }, body, run: signIn }),
    'POST /v1/admin/bindings': route({ access: 'admin', body: bulkBindInputSchema, run: bulkBind }),
  },
  events: { 'account.login': signIn },
  // Never fails the sign-in: recorded and pushed, or handed to the queue; the chain logs any error and returns the event.
  cognito: signInOrQueue,
});
