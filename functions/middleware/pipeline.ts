/**
 * Every function is the same thin middy pipeline:
 *
 *   logger context -> metrics (flushed per invocation) -> runtime (cached) -> trigger recognition
 *   -> [HTTP only: route -> auth -> body size -> JSON body -> validation] -> command -> answer
 *
 * with one error handler: HTTP errors become the spec's error answers, a Cognito trigger hands
 * its event back whatever happened (a thrown error would fail the user's sign-in), and event
 * invocations rethrow so EventBridge/Lambda retry them.
 */
import middy from '@middy/core';
import type { MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Runtime } from '../../lib/config/runtime.js';
import type { CommandMeta } from '../../lib/commands/index.js';
import { logger } from '../../lib/observability/logger.js';
import { metrics, MetricUnit } from '../../lib/observability/metrics.js';
import { isCognitoTrigger, matchHttpApi } from '../../lib/triggers/index.js';
import type { Trigger, TriggerKind } from '../../lib/triggers/index.js';
import { authorize } from './authorize.js';
import { limitBodySize } from './body-limit.js';
import type { FunctionContext } from './context.js';
import { errorAnswer } from './error-answer.js';
import { httpRoute } from './http-route.js';
import { parseJsonBody } from './json-body.js';
import { loadRuntime } from './load-runtime.js';
import { recognize } from './recognize-trigger.js';
import type { HttpAnswer, Route } from './route.js';
import { validateRequest } from './validate-request.js';

type EventKind = Exclude<TriggerKind, 'http'>;
type EventHandler<K extends EventKind> = (
  runtime: Runtime,
  trigger: Extract<Trigger, { kind: K }>,
  meta: CommandMeta,
  event: unknown,
) => Promise<unknown>;
export type EventHandlers = { [K in EventKind]?: EventHandler<K> };

export interface FunctionDefinition {
  /** HTTP API routes by routeKey (`PUT /v1/me/devices/{token}`), as in serverless.yml. */
  routes?: Readonly<Record<string, Route>>;
  /** Handlers of the non-HTTP triggers this function is wired to. */
  events?: EventHandlers;
}

function toHttpResult({ status, body }: HttpAnswer, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** Applied/queued/failed counts of a command answer, as EMF metrics. */
function recordAnswer(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const counts = body as { applied?: unknown; queued?: unknown; failed?: unknown };
  if (typeof counts.applied === 'number') metrics.addMetric('ItemsApplied', MetricUnit.Count, counts.applied);
  if (typeof counts.queued === 'number') metrics.addMetric('ItemsQueued', MetricUnit.Count, counts.queued);
  if (Array.isArray(counts.failed)) metrics.addMetric('ItemsFailed', MetricUnit.Count, counts.failed.length);
}

const answerErrors = (): MiddlewareObj<unknown, unknown, Error, FunctionContext> => ({
  name: 'answerErrors',
  onError: (request) => {
    const { error, event } = request;
    if (isCognitoTrigger(event)) {
      // E.g. the queue is down: the device may be bound directly, but without its queued confirmation.
      logger.error('Cognito trigger failed; the sign-in goes on, the device binding may be missing or unconfirmed', { error });
      request.response = event;
      return;
    }
    const isHttp = request.context.trigger?.kind === 'http' || matchHttpApi(event) !== undefined;
    if (!isHttp) {
      logger.error('Event could not be handled; rethrowing so it is retried', { error });
      return;
    }
    const answer = errorAnswer(error);
    if (answer.status >= 500) logger.error('Request failed', { status: answer.status, error });
    else logger.info('Request refused', { status: answer.status, error: answer.body.error });
    metrics.addMetric(answer.status >= 500 ? 'ServerErrors' : 'ClientErrors', MetricUnit.Count, 1);
    request.response = toHttpResult(answer, answer.headers);
  },
});

/** What Lambda calls: any event, the plain Lambda context. */
export type LambdaFunction = (event: unknown, context: Context) => Promise<unknown>;

export function lambdaHandler(definition: FunctionDefinition): LambdaFunction {
  const routes = definition.routes ?? {};
  const events = definition.events ?? {};
  const kinds = [...(definition.routes ? ['http' as const] : []), ...(Object.keys(events) as EventKind[])];

  const pipeline = middy<unknown, unknown, Error, FunctionContext>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(loadRuntime())
    .use(recognize(kinds))
    .use(httpRoute(routes))
    .use(authorize())
    .use(limitBodySize())
    .use(parseJsonBody())
    .use(validateRequest())
    .use(answerErrors())
    .handler(async (event, context) => {
      const { runtime, trigger, command } = context;
      const meta = { correlationId: trigger.correlationId };
      if (trigger.kind === 'http') {
        if (!command) throw new Error('validateRequest did not prepare a command');
        const answer = await command(runtime, meta);
        recordAnswer(answer.body);
        logger.info('Request answered', { status: answer.status });
        return toHttpResult(answer);
      }
      // recognize() only accepts the kinds listed in `events`, so this handler fits this trigger.
      const handle = events[trigger.kind] as EventHandler<EventKind> | undefined;
      if (!handle) throw new Error(`No handler for ${trigger.kind}`);
      const result = await handle(runtime, trigger as Extract<Trigger, { kind: EventKind }>, meta, event);
      recordAnswer((result as { body?: unknown } | undefined)?.body);
      return result;
    });
  // loadRuntime and recognize fill in FunctionContext's own fields before anything reads them.
  return (event, context) => pipeline(event, context as FunctionContext);
}
