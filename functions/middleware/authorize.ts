/**
 * HTTP only: the account is the verified JWT's account claim (never the body); admin routes
 * also need the admin scope. API Gateway's JWT authorizer has checked signature, issuer,
 * audience and expiry already; a request without claims did not pass through it.
 */
import type { MiddlewareObj } from '@middy/core';
import { grantedScopes, jwtClaims } from '../../lib/triggers/index.js';
import { ForbiddenError, UnauthorizedError } from './errors.js';
import type { FunctionContext } from './context.js';

export const authorize = (): MiddlewareObj<unknown, unknown, Error, FunctionContext> => ({
  name: 'authorize',
  before: (request) => {
    const { trigger, route, runtime } = request.context;
    if (trigger.kind !== 'http' || !route) return;
    const { accountClaim, adminScope } = runtime.settings;
    const account = jwtClaims(trigger.event)?.[accountClaim];
    if (typeof account !== 'string' || account === '') {
      throw new UnauthorizedError(`A verified JWT with the "${accountClaim}" claim is required`);
    }
    if (route.access === 'admin' && !grantedScopes(trigger.event).has(adminScope)) {
      throw new ForbiddenError(`This route requires the "${adminScope}" scope`);
    }
  },
});
