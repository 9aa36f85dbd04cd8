/**
 * The HTTP chain: API Gateway HTTP API (payload 2.0) behind its JWT authorizer.
 *
 *   logger + metrics -> errors as the spec's answers -> route by routeKey -> access (account
 *   claim, admin scope) -> body size -> @middy/http-json-body-parser (routes with a body)
 *   -> handler: zod input (400 naming each bad field) -> command -> answer
 *
 * Refusals are middy HttpErrors (`createError`); ./answers.ts turns every error into a body.
 */
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { createError } from '@middy/util';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { CommandMeta } from '../../lib/commands/answer.js';
import { getRuntime } from '../../lib/config/runtime.js';
import type { Runtime } from '../../lib/config/runtime.js';
import { logger } from '../../lib/observability/logger.js';
import { metrics, MetricUnit } from '../../lib/observability/metrics.js';
import { grantedScopes, jwtClaims, matchHttpApi } from '../../lib/triggers/http-api.js';
import { parseOrThrow } from '../../lib/triggers/issues.js';
import { errorAnswer } from './answers.js';
import { observe, recordAnswer } from './observe.js';

/** A user route carries at most a platform and an account type; 4 KB is generous. */
export const USER_BODY_LIMIT_BYTES = 4 * 1024;
/** 10 000 bulk items of the longest token and account are ~2.2 MB of JSON; under Lambda's 6 MB. */
export const ADMIN_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** What a request offers a route's input schema. `account` is the verified JWT claim, never the body's. */
export interface RequestParts {
  account: string;
  path: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
}

export interface Route {
  /** `user`: any verified caller; `admin`: the admin scope is required too. */
  access: 'user' | 'admin';
  takesBody: boolean;
  answer(runtime: Runtime, parts: RequestParts, meta: CommandMeta): Promise<HttpAnswer>;
}

/** A route whose input type is checked here and erased, so a function lists its routes in one table. */
export function route<I>(spec: Omit<Route, 'answer'> & { input: z.ZodMiniType<I>; run(runtime: Runtime, input: I, meta: CommandMeta): Promise<HttpAnswer> }): Route {
  return { access: spec.access, takesBody: spec.takesBody, answer: (runtime, parts, meta) => spec.run(runtime, parseOrThrow(spec.input, parts, 'request'), meta) };
}

/** Set by the access check for the handler: the one place the claim is read. */
interface HttpContext extends Context {
  http?: { runtime: Runtime; route: Route; account: string };
}

const toResult = ({ status, body }: HttpAnswer, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export function httpChain(routes: Readonly<Record<string, Route>>) {
  const parseJson = httpJsonBodyParser<APIGatewayProxyEventV2>();
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, HttpContext>()
    .use(observe())
    .use({
      onError: (request) => {
        const answer = errorAnswer(request.error);
        if (answer.status >= 500) logger.error('Request failed', { status: answer.status, error: request.error });
        else logger.info('Request refused', { status: answer.status, error: answer.body.error });
        metrics.addMetric(answer.status >= 500 ? 'ServerErrors' : 'ClientErrors', MetricUnit.Count, 1);
        request.response = toResult(answer, answer.headers);
      },
    })
    .use({
      before: async (request) => {
        const { event, context } = request;
        logger.setCorrelationId(event.requestContext.requestId);
        logger.appendKeys({ trigger: 'http', route: event.routeKey });
        const route = routes[event.routeKey];
        if (!route) throw createError(404, `No route ${event.routeKey}; this function serves ${Object.keys(routes).join(', ')}`, { expose: true });
        const runtime = await getRuntime();
        const { accountClaim, adminScope } = runtime.settings;
        const parsed = matchHttpApi(event)?.event;
        const account = parsed && jwtClaims(parsed)?.[accountClaim];
        if (typeof account !== 'string' || account === '') throw createError(401, `A verified JWT with the "${accountClaim}" claim is required`, { expose: true });
        if (route.access === 'admin' && !(parsed && grantedScopes(parsed).has(adminScope))) throw createError(403, `This route requires the "${adminScope}" scope`, { expose: true });
        // Only an admin route that reads a body needs megabytes; a bodyless admin route gets the user limit.
        const limit = route.access === 'admin' && route.takesBody ? ADMIN_BODY_LIMIT_BYTES : USER_BODY_LIMIT_BYTES;
        const bytes = typeof event.body === 'string' ? Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : 0;
        if (bytes > limit) throw createError(413, `The body is ${bytes} bytes; this route accepts at most ${limit}`, { expose: true });
        context.http = { runtime, route, account };
        if (route.takesBody) await parseJson.before?.(request);
      },
    })
    .handler(async (event, context) => {
      if (!context.http) throw new Error('the access check did not run');
      const { runtime, route, account } = context.http;
      const parts = { account, path: event.pathParameters ?? {}, query: event.queryStringParameters ?? {}, body: event.body };
      const answer = await route.answer(runtime, parts, { correlationId: event.requestContext.requestId });
      recordAnswer(answer);
      logger.info('Request answered', { status: answer.status });
      return toResult(answer);
    });
}
