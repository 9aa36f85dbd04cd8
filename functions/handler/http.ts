/**
 * The HTTP chain: API Gateway HTTP API (payload 2.0) behind its JWT authorizer.
 *
 *   logger + metrics -> errors as the spec's answers (./answers.ts) -> route by routeKey ->
 *   access (account claim, admin scope) -> body size -> @middy/http-json-body-parser (routes
 *   with a body) -> handler: zod parts (400 naming each bad field) -> command -> answer
 */
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { createError } from '@middy/util';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { CommandMeta } from '../../lib/commands/answer.js';
import { getRuntime } from '../../lib/config/runtime.js';
import type { Runtime } from '../../lib/config/runtime.js';
import { logger } from '../../lib/observability/logger.js';
import { metrics, MetricUnit, recordItemCounts } from '../../lib/observability/metrics.js';
import { accountSchema, accountTypeSchema } from '../../lib/tpns/validate.js';
import { grantedScopes, jwtClaims } from '../../lib/triggers/http-api.js';
import type { HttpApiRequest } from '../../lib/triggers/http-api.js';
import { parseOrThrow } from '../../lib/triggers/issues.js';
import { errorAnswer } from './answers.js';
import { observe } from './observe.js';

/** A user route carries at most a platform and an account type; 4 KB is generous. */
export const USER_BODY_LIMIT_BYTES = 4 * 1024;
/** 10 000 bulk items of the longest token and account are ~2.2 MB of JSON; under Lambda's 6 MB. */
export const ADMIN_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** `?accountType=3`, optional: path and query values are strings; digits, then TPNS's own rule. */
const digits = z.pipe(z.string().check(z.regex(/^\d{1,9}$/, 'must be a non-negative integer')), z.transform(Number));
export const accountTypeParam = z.optional(z.pipe(digits, accountTypeSchema));

export interface HttpAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A bodyless route reads no body, whatever was sent (within the size limit). */
const IGNORED = z.transform(() => ({}));

type Access = 'user' | 'admin';
type Shape = Record<string, z.ZodMiniType>;
type Empty = Record<never, never>;
type Command<I> = (runtime: Runtime, input: I, meta: CommandMeta) => Promise<HttpAnswer>;
type Fields<P extends Shape, Q extends Shape, B> = z.infer<z.ZodMiniObject<P>> & z.infer<z.ZodMiniObject<Q>> & B;
/** The parts merged: on a user route with the caller's account (the verified JWT claim, never the body's). */
type Input<A, P extends Shape, Q extends Shape, B> = (A extends 'user' ? { account: string } : Empty) & Fields<P, Q, B>;

/** A schema per request part (path and query values are strings); a route without `body` ignores any body. */
interface RouteSpec<A extends Access, P extends Shape, Q extends Shape, B> {
  /** `user`: any verified caller; `admin`: the admin scope is required too. */
  access: A;
  path?: P;
  query?: Q;
  body?: z.ZodMiniType<B>;
  // NoInfer: the parts alone say what the command gets; else its own input type would be taken as theirs, unchecked.
  run: Command<NoInfer<Input<A, P, Q, B>>>;
}

export interface Route {
  access: Access;
  takesBody: boolean;
  answer(runtime: Runtime, request: { account: string; path: object; query: object; body: unknown }, meta: CommandMeta): Promise<HttpAnswer>;
}

export function route<A extends Access, P extends Shape = Empty, Q extends Shape = Empty, B = Empty>(spec: RouteSpec<A, P, Q, B>): Route;
export function route({ access, path = {}, query = {}, body, run }: RouteSpec<Access, Shape, Shape, object>): Route {
  const callerSchema = access === 'user' ? { account: accountSchema } : {};
  const parts = z.object({ ...callerSchema, path: z.object(path), query: z.object(query), body: body ?? IGNORED });
  return {
    access,
    takesBody: body !== undefined,
    answer: async (runtime, request, meta) => {
      const { path, query, body, ...caller } = parseOrThrow(parts, request, 'request');
      // The caller last: no part of the request can name another account.
      return run(runtime, { ...path, ...query, ...body, ...caller }, meta);
    },
  };
}

/** Set by the access check for the handler: the one place the claim is read. */
interface HttpContext extends Context {
  http?: { runtime: Runtime; route: Route; account: string };
}

const toResult = ({ status, body, headers }: HttpAnswer): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export function httpChain(routes: Readonly<Record<string, Route>>) {
  const parseJson = httpJsonBodyParser<HttpApiRequest>();
  return middy<HttpApiRequest, APIGatewayProxyStructuredResultV2, Error, HttpContext>()
    .use(observe())
    .onError((request) => {
      const answer = errorAnswer(request.error);
      if (answer.status >= 500) logger.error('Request failed', { status: answer.status, error: request.error });
      else logger.info('Request refused', { status: answer.status, error: answer.body.error });
      metrics.addMetric(answer.status >= 500 ? 'ServerErrors' : 'ClientErrors', MetricUnit.Count, 1);
      request.response = toResult(answer);
    })
    // createError's 4xx errors are exposed (middy's convention): their messages are the answers.
    .before(async (request) => {
      const { event, context } = request;
      logger.setCorrelationId(event.requestContext.requestId);
      logger.appendKeys({ trigger: 'http', route: event.routeKey });
      const route = routes[event.routeKey];
      if (!route) throw createError(404, `No route ${event.routeKey}; this function serves ${Object.keys(routes).join(', ')}`);
      const runtime = await getRuntime();
      const { accountClaim, adminScope } = runtime.settings;
      const account = jwtClaims(event)?.[accountClaim];
      if (typeof account !== 'string' || account === '') throw createError(401, `A verified JWT with the "${accountClaim}" claim is required`);
      if (route.access === 'admin' && !grantedScopes(event).has(adminScope)) throw createError(403, `This route requires the "${adminScope}" scope`);
      // Only an admin route that reads a body needs megabytes; a bodyless admin route gets the user limit.
      const limit = route.access === 'admin' && route.takesBody ? ADMIN_BODY_LIMIT_BYTES : USER_BODY_LIMIT_BYTES;
      const bytes = typeof event.body === 'string' ? Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : 0;
      if (bytes > limit) throw createError(413, `The body is ${bytes} bytes; this route accepts at most ${limit}`);
      context.http = { runtime, route, account };
      if (route.takesBody) await parseJson.before?.(request);
    })
    .handler(async (event, context) => {
      if (!context.http) throw new Error('the access check did not run');
      const { runtime, route, account } = context.http;
      const parts = { account, path: event.pathParameters ?? {}, query: event.queryStringParameters ?? {}, body: event.body };
      const answer = await route.answer(runtime, parts, { correlationId: event.requestContext.requestId });
      recordItemCounts(answer.body);
      logger.info('Request answered', { status: answer.status });
      return toResult(answer);
    });
}
