/**
 * Reading bindings: GET /v1/me/devices (the caller's devices from the ledger, or live from TPNS
 * with ?source=tpns) and GET /v1/admin/erasures/{account} (an account deletion's receipt).
 */
import * as z from 'zod/mini';
import { erasureStatus } from '../lib/commands/erasure-status.js';
import { listDevices, listDevicesAtTpns } from '../lib/commands/list-devices.js';
import type { AccountRefInput } from '../lib/commands/schemas.js';
import { accountSchema } from '../lib/tpns/validate.js';
import { accountTypeParam } from './handler/inputs.js';
import { lambdaHandler, route } from './handler/index.js';

const devicesRequest = z.pipe(
  z.object({
    account: accountSchema,
    query: z.object({ accountType: z.optional(accountTypeParam), source: z.optional(z.enum(['ledger', 'tpns'])) }),
  }),
  z.transform(({ account, query: { source, ...query } }) => ({ input: { account, ...query } as AccountRefInput, source: source ?? 'ledger' })),
);

const erasureRequest = z.pipe(
  z.object({ path: z.object({ account: accountSchema }), query: z.object({ accountType: z.optional(accountTypeParam) }) }),
  z.transform(({ path, query }): AccountRefInput => ({ account: path.account, ...query })),
);

export const handler = lambdaHandler({
  routes: {
    'GET /v1/me/devices': route({
      access: 'user',
      takesBody: false,
      input: devicesRequest,
      run: async (runtime, { input, source }) => ({
        status: 200,
        body: source === 'tpns' ? await listDevicesAtTpns(runtime, input) : await listDevices(runtime, input),
      }),
    }),
    'GET /v1/admin/erasures/{account}': route({
      access: 'admin',
      takesBody: false,
      input: erasureRequest,
      run: async (runtime, input) => {
        const receipt = await erasureStatus(runtime, input);
        return receipt ? { status: 200, body: receipt } : { status: 404, body: { error: 'No erasure receipt for this account (never deleted, or expired)' } };
      },
    }),
  },
});
