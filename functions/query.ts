/** The caller's bound devices on both platforms: GET /v1/me/devices (query op 1). */
import { listDevices } from '../lib/commands/index.js';
import { callerRequest } from './middleware/inputs.js';
import { lambdaHandler } from './middleware/pipeline.js';
import { route } from './middleware/route.js';

export const handler = lambdaHandler({
  routes: {
    'GET /v1/me/devices': route({
      access: 'user',
      takesBody: false,
      input: callerRequest,
      run: async (runtime, input) => ({ status: 200, body: await listDevices(runtime, input) }),
    }),
  },
});
