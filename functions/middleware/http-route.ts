/** HTTP only: picks the route by API Gateway's routeKey (`PUT /v1/me/devices/{token}`). */
import type { MiddlewareObj } from '@middy/core';
import { logger } from '../../lib/observability/logger.js';
import { RouteNotFoundError } from './errors.js';
import type { FunctionContext } from './context.js';
import type { Route } from './route.js';

export const httpRoute = (routes: Readonly<Record<string, Route>>): MiddlewareObj<unknown, unknown, Error, FunctionContext> => ({
  name: 'httpRoute',
  before: (request) => {
    const { trigger } = request.context;
    if (trigger.kind !== 'http') return;
    const route = routes[trigger.event.routeKey];
    if (!route) throw new RouteNotFoundError(`No route ${trigger.event.routeKey}; this function serves ${Object.keys(routes).join(', ')}`);
    request.context.route = route;
    logger.appendKeys({ route: trigger.event.routeKey });
  },
});
