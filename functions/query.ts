/**
 * Reading bindings: GET /v1/me/devices (the caller's devices from the ledger, or live from TPNS
 * with ?source=tpns) and GET /v1/admin/erasures/{account} (an account deletion's receipt).
 */
import * as z from 'zod/mini';
import { erasureStatus } from '../lib/commands/erasure-status.js';
import { listDevices, listDevicesAtTpns } from '../lib/commands/list-devices.js';
import { accountSchema } from '../lib/tpns/validate.js';
import { accountTypeParam, lambdaHandler, route } from './handler/index.js';

const accountType = z.optional(accountTypeParam);

export const handler = lambdaHandler({
  routes: {
    'GET /v1/me/devices': route({
      access: 'user',
      query: { accountType, source: z.optional(z.enum(['ledger', 'tpns'])) },
      run: async (runtime, { source, ...input }) => ({ status: 200, body: source === 'tpns' ? await listDevicesAtTpns(runtime, input) : await listDevices(runtime, input) }),
    }),
    'GET /v1/admin/erasures/{account}': route({
      access: 'admin',
      path: { account: accountSchema },
      query: { accountType },
      run: async (runtime, input) => {
        const receipt = await erasureStatus(runtime, input);
        return receipt ? { status: 200, body: receipt } : { status: 404, body: { error: 'No erasure receipt for this account (never deleted, or expired)' } };
      },
    }),
  },
});
