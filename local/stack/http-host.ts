/**
 * The HTTP API, locally: a node:http server on 127.0.0.1 that does what API Gateway does in
 * front of the functions — route selection, the JWT authorizer, the payload 2.0 event, the
 * function's timeout, and the result turned into the HTTP response.
 *
 * Why hand-written: serverless-offline cannot host this HTTP API (JWT authorizer crash, `!Ref` left unresolved) (docs/architecture.md, "Why local/ is hand-written").
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildHttpApiEvent, newRequestId, toApiResponse } from './api-gateway-event.js';
import type { ApiResponse, GatewayHttpEvent, IncomingApiRequest } from './api-gateway-event.js';
import { authorizeJwt } from './authorizer.js';
import type { VerifyToken } from './authorizer.js';
import { loadHandler } from './function-loader.js';
import type { LambdaHandler } from './function-loader.js';
import { verifyDevToken } from './jwt.js';
import { createLambdaContext } from './lambda-context.js';
import { matchRoute } from './routes.js';
import type { HttpApiRoute } from './routes.js';

/** API Gateway HTTP APIs refuse request bodies over 10 MB. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
export const LOOPBACK = '127.0.0.1';

export type HttpFunction = LambdaHandler<GatewayHttpEvent, unknown>;

/** Carries the route template, never the raw path: paths hold device tokens. */
export interface AccessLogEntry {
  method: string;
  /** `PUT /v1/me/devices/{token}`; absent when no route matched. */
  routeKey?: string;
  status: number;
  functionName?: string;
  durationMs: number;
  requestId: string;
}

export interface HttpHostOptions {
  routes: readonly HttpApiRoute[];
  /** 0 picks a free port. */
  port?: number;
  /** Default: the local stack's dev tokens (verifyDevToken). */
  verifyToken?: VerifyToken;
  /** Default: import the route's `handler` from the project's sources. */
  resolveFunction?: (route: HttpApiRoute) => Promise<HttpFunction>;
  onRequest?: (entry: AccessLogEntry) => void;
  /** A function that threw, timed out or returned garbage (or a host failure): answered 500. */
  onError?: (error: unknown, route?: HttpApiRoute) => void;
}

export interface HttpHost {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The port is taken by another process: say so in one line, not with a stack trace. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(readonly port: number, what = 'the HTTP API') {
    super(`port ${port} on ${LOOPBACK} is already in use, so ${what} cannot start`);
  }
}

class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
}

const message = (statusCode: number, text: string, headers: Record<string, string> = {}): ApiResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  cookies: [],
  body: Buffer.from(JSON.stringify({ message: text })),
});

class BodyTooLargeError extends Error {}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Lambda stops a function at its timeout; API Gateway then answers 500. */
async function invokeWithTimeout(fn: HttpFunction, event: GatewayHttpEvent, route: HttpApiRoute): Promise<unknown> {
  const context = createLambdaContext(route.functionName, route.timeoutSeconds, route.memoryMb);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new FunctionTimeoutError(`${route.functionName} timed out after ${route.timeoutSeconds} s`)),
      route.timeoutSeconds * 1000,
    );
  });
  try {
    return await Promise.race([fn(event, context), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startHttpHost(options: HttpHostOptions): Promise<HttpHost> {
  const verifyToken = options.verifyToken ?? verifyDevToken;
  const resolveFunction = options.resolveFunction ?? ((route) => loadHandler<GatewayHttpEvent, unknown>(route.handler));

  async function answer(request: IncomingMessage, requestId: string): Promise<{ response: ApiResponse; route?: HttpApiRoute }> {
    const url = request.url ?? '/';
    const match = matchRoute(options.routes, request.method ?? 'GET', url.split('?')[0] ?? '/');
    if (!match) return { response: message(404, 'Not Found') };
    const { route } = match;

    let body: Buffer;
    try {
      body = await readBody(request);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return { response: message(413, 'Request Entity Too Large'), route };
      throw error;
    }

    let jwt;
    if (route.authorizer) {
      const decision = await authorizeJwt(request.headers.authorization, verifyToken, route.authorizer.scopes);
      if (!decision.ok) {
        const headers: Record<string, string> = decision.wwwAuthenticate ? { 'www-authenticate': decision.wwwAuthenticate } : {};
        return { response: message(decision.statusCode, decision.message, headers), route };
      }
      jwt = decision.jwt;
    }

    const apiRequest: IncomingApiRequest = {
      method: request.method ?? 'GET',
      url,
      headers: request.headers,
      body,
      sourceIp: request.socket.remoteAddress ?? LOOPBACK,
      httpVersion: request.httpVersion,
    };
    try {
      const fn = await resolveFunction(route);
      const result = await invokeWithTimeout(fn, buildHttpApiEvent(apiRequest, match, requestId, jwt), route);
      return { response: toApiResponse(result), route };
    } catch (error) {
      // A throw, a timeout or a malformed result: API Gateway shows the caller nothing more.
      options.onError?.(error, route);
      return { response: message(500, 'Internal Server Error'), route };
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = newRequestId();
    const { response: answered, route } = await answer(request, requestId).catch((error: unknown) => {
      options.onError?.(error);
      return { response: message(500, 'Internal Server Error'), route: undefined };
    });
    const headers: Record<string, string | string[]> = { ...answered.headers, 'apigw-requestid': requestId };
    if (answered.cookies.length > 0) headers['set-cookie'] = answered.cookies;
    response.writeHead(answered.statusCode, headers).end(answered.body);
    options.onRequest?.({
      method: request.method ?? 'GET',
      status: answered.statusCode,
      ...(route ? { routeKey: `${route.method} ${route.path}`, functionName: route.functionName } : {}),
      durationMs: Math.round(performance.now() - started),
      requestId,
    });
  }

  const server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(options.port ?? 0) : error);
    });
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
