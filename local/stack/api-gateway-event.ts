/**
 * API Gateway HTTP API payload format 2.0, both ways: the event a request becomes, and the
 * HTTP response a function's result becomes.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 *
 * Why hand-written: serverless-offline cannot host this HTTP API (JWT authorizer crash, `!Ref` left unresolved) (docs/architecture.md, "Why local/ is hand-written").
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type {
  APIGatewayEventRequestContextJWTAuthorizer,
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2WithRequestContext,
} from 'aws-lambda';
import type { JwtAuthorizerContext } from './authorizer.js';
import { LOCAL_ACCOUNT_ID } from './lambda-context.js';
import type { RouteMatch } from './routes.js';

export type GatewayHttpEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2 & { authorizer?: APIGatewayEventRequestContextJWTAuthorizer }
>;

export interface IncomingApiRequest {
  method: string;
  /** Path and query exactly as received (`/v1/me/devices?x=1`). */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sourceIp: string;
  httpVersion: string;
}

export const LOCAL_API_ID = 'local';

/** API Gateway's request ids look like `JKJaXmPLvHcESHA=`; unique per request. */
export function newRequestId(): string {
  return randomBytes(10).toString('base64');
}

/** `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time`. */
function clfTime(date: Date): string {
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** Repeated headers and query parameters are joined with commas; cookies move to `cookies`. */
function joinHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'cookie') continue;
    joined[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return joined;
}

function joinQuery(search: URLSearchParams): Record<string, string> | undefined {
  const query: Record<string, string> = {};
  for (const name of new Set(search.keys())) query[name] = search.getAll(name).join(',');
  return Object.keys(query).length > 0 ? query : undefined;
}

export function buildHttpApiEvent(
  request: IncomingApiRequest,
  match: RouteMatch,
  requestId: string,
  jwt?: JwtAuthorizerContext,
  now = new Date(),
): GatewayHttpEvent {
  const queryStart = request.url.indexOf('?');
  const rawPath = queryStart < 0 ? request.url : request.url.slice(0, queryStart);
  const rawQueryString = queryStart < 0 ? '' : request.url.slice(queryStart + 1);
  const headers = joinHeaders(request.headers);
  const domainName = headers.host ?? '127.0.0.1';
  const cookies = request.headers.cookie?.split(';').map((cookie) => cookie.trim()).filter(Boolean);
  const queryStringParameters = joinQuery(new URLSearchParams(rawQueryString));
  const hasPathParameters = Object.keys(match.pathParameters).length > 0;

  return {
    version: '2.0',
    routeKey: match.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies?.length ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    ...(hasPathParameters ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: LOCAL_API_ID,
      ...(jwt ? { authorizer: { jwt } } : {}),
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: request.method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: match.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(request.body.length > 0 ? { body: request.body.toString('utf8') } : {}),
    isBase64Encoded: false,
  };
}

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A result that is not a well-formed response: API Gateway answers 500 then. */
export class MalformedLambdaResultError extends Error {
  override readonly name = 'MalformedLambdaResultError';
}

/**
 * Payload 2.0 rules: a result with `statusCode` is a response; anything else (a string, an
 * object without `statusCode`) is answered 200 as JSON with the result as the body.
 */
export function toApiResponse(result: unknown): ApiResponse {
  if (!isRecord(result) || result.statusCode === undefined) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(body) };
  }
  const { statusCode, headers = {}, cookies = [], body = '', isBase64Encoded = false } = result;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new MalformedLambdaResultError(`statusCode must be an HTTP status, got ${JSON.stringify(statusCode)}`);
  }
  if (!isRecord(headers) || !Array.isArray(cookies) || typeof body !== 'string') {
    throw new MalformedLambdaResultError('headers must be an object, cookies an array and body a string');
  }
  return {
    statusCode,
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)])),
    cookies: cookies.map(String),
    body: Buffer.from(body, isBase64Encoded === true ? 'base64' : 'utf8'),
  };
}
