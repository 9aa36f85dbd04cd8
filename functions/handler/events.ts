/**
 * The chains of the non-HTTP triggers. EventBridge (`account.*`, Auth0 `sdu`): recognised by
 * shape, handled, and rethrown on any error so that EventBridge retries. Cognito Post
 * authentication: never throws, whatever happens the event goes back (a throw would fail the
 * user's sign-in).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { CommandMeta } from '../../lib/commands/answer.js';
import type { DeviceInput } from '../../lib/commands/schemas.js';
import { getRuntime } from '../../lib/config/runtime.js';
import type { Runtime } from '../../lib/config/runtime.js';
import { logger } from '../../lib/observability/logger.js';
import { recordItemCounts } from '../../lib/observability/metrics.js';
import { recognizeTrigger } from '../../lib/triggers/recognize.js';
import type { Trigger, TriggerKind } from '../../lib/triggers/recognize.js';
import { UnrecognizedEventError } from '../../lib/triggers/issues.js';
import { observe } from './observe.js';

type Command<I> = (runtime: Runtime, input: I, meta: CommandMeta) => Promise<{ body: unknown }>;
type EventTrigger = Exclude<Trigger, { kind: 'http' | 'cognito.post-authentication' }>;
type EventInputs = { [T in EventTrigger as T['kind']]: T['input'] };

/** The command each EventBridge event kind runs, given the input the event carries. */
export type EventHandlers = { [K in keyof EventInputs]?: Command<EventInputs[K]> };
export type CognitoHandler = Command<DeviceInput>;

const EVENT_KINDS = ['account.login', 'account.logout', 'account.deleted', 'auth0.sdu'] as const;

async function recognized(event: unknown, context: Context, kinds: readonly TriggerKind[]) {
  const runtime = await getRuntime();
  const trigger = recognizeTrigger(event, kinds, { accountClaim: runtime.settings.accountClaim, invocationId: context.awsRequestId });
  logger.setCorrelationId(trigger.correlationId);
  logger.appendKeys({ trigger: trigger.kind });
  return { runtime, trigger, meta: { correlationId: trigger.correlationId } };
}

/** Correlated by kind: the handler of `K` gets the input of a `K` event. */
const run = <K extends keyof EventInputs>(handlers: EventHandlers, trigger: { kind: K; input: EventInputs[K] }, runtime: Runtime, meta: CommandMeta) =>
  handlers[trigger.kind]?.(runtime, trigger.input, meta);

/** `also`: the function's other triggers, named in the error for an event it is not wired for. */
export function eventChain(handlers: EventHandlers, also: { http: boolean; cognito: boolean }) {
  const kinds: TriggerKind[] = EVENT_KINDS.filter((kind) => handlers[kind]);
  if (also.http) kinds.unshift('http');
  if (also.cognito) kinds.push('cognito.post-authentication');
  return middy<unknown, unknown>()
    .use(observe())
    .onError((request) => logger.error('Event could not be handled; rethrowing so it is retried', { error: request.error }))
    .handler(async (event, context) => {
      const { runtime, trigger, meta } = await recognized(event, context, kinds);
      // Unreachable (the dispatch sends these to their own chains); it narrows the trigger to an event's.
      if (trigger.kind === 'http' || trigger.kind === 'cognito.post-authentication') throw new UnrecognizedEventError([`an event of ${kinds.join(', ')}`]);
      const answer = await run(handlers, trigger, runtime, meta);
      recordItemCounts(answer?.body);
      return answer;
    });
}

export function cognitoChain(handle: CognitoHandler | undefined) {
  return middy<unknown, unknown>()
    .use(observe())
    .onError((request) => {
      // E.g. the ledger and the queue both down: the sign-in goes on without its device binding.
      logger.error('Cognito trigger failed; the sign-in goes on, the device binding may be missing', { error: request.error });
      request.response = request.event;
    })
    .handler(async (event, context) => {
      if (!handle) throw new UnrecognizedEventError(['no Cognito trigger: this function is not wired to one']);
      const { runtime, trigger, meta } = await recognized(event, context, ['cognito.post-authentication']);
      // Only a sign-in that passed a push token binds a device.
      if (trigger.kind === 'cognito.post-authentication' && trigger.device) await handle(runtime, { account: trigger.account, ...trigger.device }, meta);
      return event;
    });
}
