/**
 * The chains of the non-HTTP triggers. EventBridge (`account.*`, Auth0 `sdu`): recognised by
 * shape, handled, and rethrown on any error so that EventBridge retries. Cognito Post
 * authentication: never throws, whatever happens the event goes back (a throw would fail the
 * user's sign-in).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { CommandMeta } from '../../lib/commands/answer.js';
import { getRuntime } from '../../lib/config/runtime.js';
import type { Runtime } from '../../lib/config/runtime.js';
import { logger } from '../../lib/observability/logger.js';
import { recognizeTrigger } from '../../lib/triggers/recognize.js';
import { UnrecognizedEventError } from '../../lib/triggers/issues.js';
import type { AccountEventTrigger } from '../../lib/triggers/account-event.js';
import type { Auth0DeletionTrigger } from '../../lib/triggers/auth0-event.js';
import type { CognitoSignInTrigger } from '../../lib/triggers/cognito-post-auth.js';
import { observe, recordAnswer } from './observe.js';

type Handle<T> = (runtime: Runtime, trigger: T, meta: CommandMeta) => Promise<unknown>;

type DeviceEvent = Extract<AccountEventTrigger, { kind: 'account.login' | 'account.logout' }>;
type DeletedEvent = Extract<AccountEventTrigger, { kind: 'account.deleted' }>;

export interface EventHandlers {
  'account.login'?: Handle<DeviceEvent>;
  'account.logout'?: Handle<DeviceEvent>;
  'account.deleted'?: Handle<DeletedEvent>;
  'auth0.sdu'?: Handle<Auth0DeletionTrigger>;
}

export type CognitoHandler = Handle<CognitoSignInTrigger>;

const EVENT_KINDS = ['account.login', 'account.logout', 'account.deleted', 'auth0.sdu'] as const;

async function recognized(event: unknown, context: Context, kinds: Parameters<typeof recognizeTrigger>[1]) {
  const runtime = await getRuntime();
  const trigger = recognizeTrigger(event, kinds, { accountClaim: runtime.settings.accountClaim, invocationId: context.awsRequestId });
  logger.setCorrelationId(trigger.correlationId);
  logger.appendKeys({ trigger: trigger.kind });
  return { runtime, trigger, meta: { correlationId: trigger.correlationId } };
}

/** `also`: the function's other triggers, named in the error for an event it is not wired for. */
export function eventChain(handlers: EventHandlers, also: { http: boolean; cognito: boolean }) {
  const kinds = [...(also.http ? (['http'] as const) : []), ...EVENT_KINDS.filter((kind) => handlers[kind]), ...(also.cognito ? (['cognito.post-authentication'] as const) : [])];
  return middy<unknown, unknown>()
    .use(observe())
    .use({ onError: (request) => logger.error('Event could not be handled; rethrowing so it is retried', { error: request.error }) })
    .handler(async (event, context) => {
      const { runtime, trigger, meta } = await recognized(event, context, kinds);
      let result: unknown;
      if (trigger.kind === 'auth0.sdu') result = await handlers['auth0.sdu']?.(runtime, trigger, meta);
      else if (trigger.kind === 'account.deleted') result = await handlers['account.deleted']?.(runtime, trigger, meta);
      else if (trigger.kind === 'account.login' || trigger.kind === 'account.logout') result = await handlers[trigger.kind]?.(runtime, trigger, meta);
      else throw new UnrecognizedEventError([`an event of ${kinds.join(', ')}`]);
      recordAnswer(result);
      return result;
    });
}

export function cognitoChain(handle: CognitoHandler | undefined) {
  return middy<unknown, unknown>()
    .use(observe())
    .use({
      onError: (request) => {
        // E.g. the ledger and the queue both down: the sign-in goes on without its device binding.
        logger.error('Cognito trigger failed; the sign-in goes on, the device binding may be missing', { error: request.error });
        request.response = request.event;
      },
    })
    .handler(async (event, context) => {
      if (!handle) throw new UnrecognizedEventError(['no Cognito trigger: this function is not wired to one']);
      const { runtime, trigger, meta } = await recognized(event, context, ['cognito.post-authentication']);
      if (trigger.kind === 'cognito.post-authentication') await handle(runtime, trigger, meta);
      return event;
    });
}
