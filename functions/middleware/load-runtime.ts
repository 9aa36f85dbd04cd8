/** Puts the cached runtime (TPNS client, queue, settings; built once per cold start) on the context. */
import type { MiddlewareObj } from '@middy/core';
import { getRuntime } from '../../lib/config/runtime.js';
import type { FunctionContext } from './context.js';

export const loadRuntime = (): MiddlewareObj<unknown, unknown, Error, FunctionContext> => ({
  name: 'loadRuntime',
  before: async (request) => {
    request.context.runtime = await getRuntime();
  },
});
