/**
 * Reading bindings: GET /v1/me/devices (the caller's devices from the ledger, or live from TPNS
 * with ?source=tpns) and GET /v1/admin/erasures/{account} (an account deletion's receipt).
 */
import * as z from 'zod/mini';
import { answerErasureStatus } from '../lib/commands/erasure-status.js';
import { answerDeviceList } from '../lib/commands/list-devices.js';
import { deviceSourceSchema } from '../lib/commands/schemas.js';
import { accountSchema } from '../lib/tpns/validate.js';
import { accountTypeParam, lambdaHandler, route } from './handler/index.js';

export const handler = lambdaHandler({
  routes: {
    'GET /v1/me/devices': route({
      access: 'user',
      query: { accountType: accountTypeParam, source: z.optional(deviceSourceSchema) },
      run: answerDeviceList,
    }),
    'GET /v1/admin/erasures/{account}': route({
      access: 'admin',
      path: { account: accountSchema },
      query: { accountType: accountTypeParam },
      run: answerErasureStatus,
    }),
  },
});
