/** Tells which trigger invoked the function and tags every log line with its correlation id. */
import type { MiddlewareObj } from '@middy/core';
import { logger } from '../../lib/observability/logger.js';
import { recognizeTrigger } from '../../lib/triggers/index.js';
import type { TriggerKind } from '../../lib/triggers/index.js';
import type { FunctionContext } from './context.js';

export const recognize = (kinds: readonly TriggerKind[]): MiddlewareObj<unknown, unknown, Error, FunctionContext> => ({
  name: 'recognizeTrigger',
  before: (request) => {
    const { runtime, awsRequestId } = request.context;
    const trigger = recognizeTrigger(request.event, kinds, { accountClaim: runtime.settings.accountClaim, invocationId: awsRequestId });
    request.context.trigger = trigger;
    logger.setCorrelationId(trigger.correlationId);
    logger.appendKeys({ trigger: trigger.kind });
    // HTTP: the rest of the pipeline works on the parsed event (the JSON parser replaces its body).
    if (trigger.kind === 'http') request.event = trigger.event;
  },
});
