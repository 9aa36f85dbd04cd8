/**
 * Sign-in: op 2, the device's token now belongs to the signed-in account only.
 * PUT /v1/me/devices/{token}, POST /v1/admin/bindings, EventBridge `account.login`, Cognito Post authentication.
 */
import * as z from 'zod/mini';
import { bulkBind, signIn, signInOrQueue } from '../lib/commands/sign-in.js';
import { bulkBindInputSchema } from '../lib/commands/schemas.js';
import type { DeviceInput } from '../lib/commands/schemas.js';
import { accountSchema, accountTypeSchema, platformSchema, tokenSchema } from '../lib/tpns/validate.js';
import { bodyOf } from './handler/inputs.js';
import { lambdaHandler, route } from './handler/index.js';

const signInRequest = z.pipe(
  z.object({
    account: accountSchema,
    path: z.object({ token: tokenSchema }),
    // Strict: an `account` in the body is refused, not silently ignored (the account is the JWT's).
    body: z.strictObject({ platform: platformSchema, accountType: z.optional(accountTypeSchema) }),
  }),
  z.transform(({ account, path, body }): DeviceInput => ({ account, token: path.token, ...body })),
);

export const handler = lambdaHandler({
  routes: {
    'PUT /v1/me/devices/{token}': route({ access: 'user', takesBody: true, input: signInRequest, run: signIn }),
    'POST /v1/admin/bindings': route({ access: 'admin', takesBody: true, input: bodyOf(bulkBindInputSchema), run: bulkBind }),
  },
  events: {
    'account.login': (runtime, { detail }, meta) => signIn(runtime, detail, meta),
  },
  // Never fails the sign-in: recorded and pushed, or handed to the queue; the chain logs any error and returns the event.
  cognito: async (runtime, { account, device }, meta) => device && signInOrQueue(runtime, { account, ...device }, meta),
});
