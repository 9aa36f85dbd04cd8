/** HTTP only: parses path, query, body and the caller's account into the route's command input (400 naming each bad field). */
import type { MiddlewareObj } from '@middy/core';
import { jwtClaims } from '../../lib/triggers/index.js';
import type { FunctionContext } from './context.js';

export const validateRequest = (): MiddlewareObj<unknown, unknown, Error, FunctionContext> => ({
  name: 'validateRequest',
  before: (request) => {
    const { trigger, route, runtime } = request.context;
    if (trigger.kind !== 'http' || !route) return;
    const { event } = trigger;
    request.context.command = route.prepare({
      account: String(jwtClaims(event)?.[runtime.settings.accountClaim]),
      path: event.pathParameters ?? {},
      query: event.queryStringParameters ?? {},
      body: event.body,
    });
  },
});
