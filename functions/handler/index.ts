/**
 * A function's handler: one middy chain per trigger family (./http.ts, ./events.ts) behind a
 * dispatch on the event's shape, since Lambda does not say which trigger invoked it.
 */
import type { Context } from 'aws-lambda';
import { isCognitoTrigger } from '../../lib/triggers/cognito-post-auth.js';
import { isHttpApiEvent } from '../../lib/triggers/http-api.js';
import { cognitoChain, eventChain } from './events.js';
import type { CognitoHandler, EventHandlers } from './events.js';
import { httpChain } from './http.js';
import type { Route } from './http.js';

export { accountTypeParam, route } from './http.js';

export function lambdaHandler({ routes, events = {}, cognito }: { routes?: Record<string, Route>; events?: EventHandlers; cognito?: CognitoHandler }) {
  const http = httpChain(routes ?? {});
  const other = eventChain(events, { http: routes !== undefined, cognito: cognito !== undefined });
  const signIn = cognitoChain(cognito);
  return (event: unknown, context: Context): Promise<unknown> =>
    isHttpApiEvent(event) ? http(event, context) : isCognitoTrigger(event) ? signIn(event, context) : other(event, context);
}
