/**
 * A function's handler: one middy chain per trigger family (./http.ts, ./events.ts) behind a
 * dispatch on the event's shape, since Lambda does not say which trigger invoked it.
 */
import type { Context } from 'aws-lambda';
import { isCognitoTrigger } from '../../lib/triggers/cognito-post-auth.js';
import { isHttpApiEvent } from '../../lib/triggers/http-api.js';
import { cognitoChain, eventChain } from './events.js';
import type { EventHandlers } from './events.js';
import { httpChain } from './http.js';
import type { Route } from './http.js';

export { accountTypeParam, route } from './http.js';

export function lambdaHandler(definition: { routes?: Readonly<Record<string, Route>>; events?: EventHandlers; cognito?: Parameters<typeof cognitoChain>[0] }) {
  const [http, events, cognito] = [httpChain(definition.routes ?? {}), eventChain(definition.events ?? {}, { http: definition.routes !== undefined, cognito: definition.cognito !== undefined }), cognitoChain(definition.cognito)];
  return (event: unknown, context: Context): Promise<unknown> =>
    isHttpApiEvent(event) ? http(event, context) : isCognitoTrigger(event) ? cognito(event, context) : events(event, context);
}
