/** HTTP only: refuses bodies over the route's limit before anything parses them (413). */
import type { MiddlewareObj } from '@middy/core';
import { PayloadTooLargeError } from './errors.js';
import type { FunctionContext } from './context.js';

export const limitBodySize = (): MiddlewareObj<unknown, unknown, Error, FunctionContext> => ({
  name: 'limitBodySize',
  before: (request) => {
    const { trigger, route } = request.context;
    if (trigger.kind !== 'http' || !route || typeof trigger.event.body !== 'string') return;
    const bytes = Buffer.byteLength(trigger.event.body, trigger.event.isBase64Encoded ? 'base64' : 'utf8');
    if (bytes > route.maxBodyBytes) {
      throw new PayloadTooLargeError(`The body is ${bytes} bytes; this route accepts at most ${route.maxBodyBytes}`);
    }
  },
});
