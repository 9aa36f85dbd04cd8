/**
 * Realistic events for the handlers: API Gateway HTTP API v2 events built by the local stack's
 * own builder (JWT authorizer claims included), and the SQS event the worker receives.
 */
import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { DEFAULT_ADMIN_SCOPE } from '../lib/config/settings.js';
import type { KeyMessage } from '../lib/queue/messages.js';
import { buildHttpApiEvent, newRequestId } from '../local/stack/api-gateway-event.js';
import type { GatewayHttpEvent } from '../local/stack/api-gateway-event.js';
import type { HttpApiRoute } from '../local/serverless-config.js';

export interface ApiCall {
  /** The signed-in account (the JWT's `sub`). */
  account: string;
  admin?: boolean;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

/** An HTTP API v2 event for `routeKey` (`PUT /v1/me/devices/{token}`), as API Gateway would send it. */
export function apiEvent(routes: readonly HttpApiRoute[], routeKey: string, call: ApiCall): GatewayHttpEvent {
  const [method = '', path = ''] = routeKey.split(' ');
  const route = routes.find((candidate) => candidate.method === method && candidate.path === path);
  if (!route) throw new Error(`serverless.yml has no route ${routeKey}`);
  const pathParameters = call.pathParameters ?? {};
  const rawPath = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathParameters[name] ?? ''));
  const query = new URLSearchParams(call.query ?? {}).toString();
  const body = call.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(call.body));
  const now = Math.floor(Date.now() / 1000);
  return buildHttpApiEvent(
    {
      method,
      url: query ? `${rawPath}?${query}` : rawPath,
      headers: { host: 'api.example.com', 'content-type': 'application/json', 'user-agent': 'bench' },
      body,
      sourceIp: '127.0.0.1',
      httpVersion: '1.1',
    },
    { route, routeKey, pathParameters },
    newRequestId(),
    {
      claims: { sub: call.account, iat: now, exp: now + 3600, ...(call.admin ? { scope: DEFAULT_ADMIN_SCOPE } : {}) },
      scopes: null,
    },
  );
}

/** The SQS event of key messages as Lambda's event source delivers them from the standard queue. */
export function sqsEvent(messages: readonly KeyMessage[], queueArn: string): SQSEvent {
  const now = String(Date.now());
  return {
    Records: messages.map((message, index) => ({
      messageId: randomUUID(),
      receiptHandle: `bench-${index}`,
      body: JSON.stringify(message),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'bench', ApproximateFirstReceiveTimestamp: now },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
    })),
  };
}
