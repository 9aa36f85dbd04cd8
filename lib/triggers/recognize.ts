/**
 * Tells which of its triggers invoked a function, by the event's shape alone (Lambda does not
 * say). A function lists the triggers it is wired to; anything else is an UnrecognizedEventError
 * naming what was expected, and a recognised event with invalid content an InvalidInputError.
 */
import { accountEventExpected, matchAccountEvent } from './account-event.js';
import type { AccountEventTrigger, AccountEventType } from './account-event.js';
import { AUTH0_DELETION_EXPECTED, matchAuth0Deletion } from './auth0-event.js';
import type { Auth0DeletionTrigger } from './auth0-event.js';
import { COGNITO_POST_AUTH_EXPECTED, matchCognitoPostAuth } from './cognito-post-auth.js';
import type { CognitoSignInTrigger } from './cognito-post-auth.js';
import { UnrecognizedEventError } from './issues.js';
import { HTTP_API_EXPECTED, matchHttpApi } from './http-api.js';
import type { HttpTrigger } from './http-api.js';

export type Trigger = HttpTrigger | AccountEventTrigger | Auth0DeletionTrigger | (CognitoSignInTrigger & { correlationId: string });
export type TriggerKind = Trigger['kind'];

export interface RecognizeOptions {
  /** JWT claim / Cognito user attribute holding the account. */
  accountClaim: string;
  /** For triggers that carry no id of their own (Cognito): the Lambda request id. */
  invocationId: string;
}

interface Matcher {
  expected: string;
  match(event: unknown, options: RecognizeOptions): Trigger | undefined;
}

const accountEventMatcher = (type: AccountEventType): Matcher => ({
  expected: accountEventExpected(type),
  match: (event) => matchAccountEvent(event, type),
});

const MATCHERS: Record<TriggerKind, Matcher> = {
  http: { expected: HTTP_API_EXPECTED, match: matchHttpApi },
  'account.login': accountEventMatcher('account.login'),
  'account.logout': accountEventMatcher('account.logout'),
  'account.deleted': accountEventMatcher('account.deleted'),
  'auth0.sdu': { expected: AUTH0_DELETION_EXPECTED, match: matchAuth0Deletion },
  'cognito.post-authentication': {
    expected: COGNITO_POST_AUTH_EXPECTED,
    match: (event, { accountClaim, invocationId }) => {
      const trigger = matchCognitoPostAuth(event, accountClaim);
      return trigger && { ...trigger, correlationId: invocationId };
    },
  },
};

export function recognizeTrigger(event: unknown, accepted: readonly TriggerKind[], options: RecognizeOptions): Trigger {
  for (const kind of accepted) {
    const trigger = MATCHERS[kind].match(event, options);
    if (trigger) return trigger;
  }
  throw new UnrecognizedEventError(accepted.map((kind) => MATCHERS[kind].expected));
}
