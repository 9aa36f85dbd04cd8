/**
 * Sends one operation through the real Lambda handlers with the event its trigger would
 * deliver (API Gateway HTTP API v2 with a JWT authorizer, EventBridge, Cognito, Auth0), and
 * retries it the way its caller would: an HTTP client after a 503, EventBridge after a throw.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import { handler as deleteAccount } from '../../../functions/delete-account.js';
import { handler as login } from '../../../functions/login.js';
import { handler as logout } from '../../../functions/logout.js';
import { fixture, httpEvent, lambdaContext } from '../../integration/functions/harness.js';
import type { HttpRequest } from '../../integration/functions/harness.js';
import type { Operation, User } from './operations.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export const ADMIN_SCOPE = 'tpns/admin';

export interface DriveStats {
  /** Handler invocations, first tries and retries. */
  invocations: number;
  /** Invocations repeated after a 503 (HTTP) or a thrown error (events). */
  callerRetries: number;
  statuses: Record<string, number>;
  /** Answers no caller should ever get (a 4xx/5xx other than 503 for valid input). */
  unexpected: string[];
}

export const newDriveStats = (): DriveStats => ({ invocations: 0, callerRetries: 0, statuses: {}, unexpected: [] });

const MAX_ATTEMPTS = 30;
const RETRY_PAUSE_MS = 200;

/** An EventBridge `account.*` event, shaped like the recorded fixture, with a fresh id. */
export function accountEvent(type: 'account.login' | 'account.logout' | 'account.deleted', detail: Record<string, unknown>) {
  const base = fixture(`eventbridge-${type.replace('.', '-')}`);
  return { ...base, id: randomUUID(), time: new Date().toISOString(), detail: { occurredAt: new Date().toISOString(), eventId: randomUUID(), ...detail } };
}

export function auth0DeletionEvent(account: string) {
  const base = fixture<{ detail: { data: Record<string, unknown> } }>('eventbridge-auth0-sdu');
  const logId = `900${Date.now()}${Math.floor(Math.random() * 1e9)}`;
  return { ...base, id: randomUUID(), detail: { ...base.detail, log_id: logId, data: { ...base.detail.data, user_id: account, log_id: logId } } };
}

export function cognitoSignInEvent(account: string, token: string, platform: string) {
  const base = fixture<{ request: Record<string, unknown> & { userAttributes: Record<string, string> } }>('cognito-post-authentication');
  return {
    ...base,
    userName: account,
    request: { ...base.request, userAttributes: { ...base.request.userAttributes, sub: account }, clientMetadata: { pushToken: token, pushPlatform: platform } },
  };
}

const withType = (user: User) => (user.accountType === 0 ? {} : { accountType: user.accountType });
const typeQuery = (user: User): Record<string, string> => (user.accountType === 0 ? {} : { accountType: String(user.accountType) });

/** The handler and a fresh event for each attempt (HTTP retries are new requests; EventBridge re-sends the same event). */
function invocation(operation: Operation): { handler: Handler; kind: 'http' | 'event' | 'cognito'; event: () => unknown } {
  const http = (handler: Handler, routeKey: string, request: HttpRequest) => ({ handler, kind: 'http' as const, event: () => httpEvent(routeKey, request) });
  const once = (handler: Handler, event: unknown) => ({ handler, kind: 'event' as const, event: () => event });
  switch (operation.kind) {
    case 'sign-in': {
      const { device, user } = operation;
      if (operation.via === 'cognito') return { handler: login, kind: 'cognito', event: () => cognitoSignInEvent(user.account, device.token, device.platform) };
      if (operation.via === 'event') return once(login, accountEvent('account.login', { account: user.account, token: device.token, platform: device.platform, ...withType(user) }));
      return http(login, 'PUT /v1/me/devices/{token}', { account: user.account, pathParameters: { token: device.token }, body: { platform: device.platform, ...withType(user) } });
    }
    case 'sign-out': {
      const { device, user } = operation;
      if (operation.via === 'event') return once(logout, accountEvent('account.logout', { account: user.account, token: device.token, platform: device.platform, ...withType(user) }));
      return http(logout, 'DELETE /v1/me/devices/{token}', { account: user.account, pathParameters: { token: device.token }, query: { platform: device.platform, ...typeQuery(user) } });
    }
    case 'delete-account': {
      const { user } = operation;
      if (operation.via === 'auth0') return once(deleteAccount, auth0DeletionEvent(user.account));
      if (operation.via === 'event') return once(deleteAccount, accountEvent('account.deleted', { account: user.account, ...withType(user) }));
      return http(deleteAccount, 'DELETE /v1/me', { account: user.account, query: typeQuery(user) });
    }
    case 'bulk-bind':
      return http(login, 'POST /v1/admin/bindings', {
        account: 'ops-admin',
        scope: ADMIN_SCOPE,
        body: { items: operation.items.map(({ device, user }) => ({ token: device.token, platform: device.platform, account: user.account, ...withType(user) })) },
      });
    case 'bulk-unbind':
      return http(logout, 'POST /v1/admin/unbind-tokens', {
        account: 'ops-admin',
        scope: ADMIN_SCOPE,
        body: { platform: operation.platform, tokens: operation.devices.map((device) => device.token) },
      });
    case 'bulk-delete':
      return http(deleteAccount, 'POST /v1/admin/delete-accounts', {
        account: 'ops-admin',
        scope: ADMIN_SCOPE,
        body: { accounts: operation.users.map((user) => ({ account: user.account, ...withType(user) })) },
      });
  }
}

/** Runs the operation until it is accepted (2xx / the event handled), counting what happened. */
export async function drive(operation: Operation, stats: DriveStats): Promise<void> {
  const { handler, kind, event } = invocation(operation);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (attempt > 1) {
      stats.callerRetries += 1;
      await sleep(RETRY_PAUSE_MS);
    }
    stats.invocations += 1;
    let result: unknown;
    try {
      result = await handler(event(), lambdaContext());
    } catch (error) {
      if (kind === 'http') throw error; // an HTTP handler answers, it never throws
      stats.statuses.thrown = (stats.statuses.thrown ?? 0) + 1;
      continue; // EventBridge retries the event
    }
    if (kind !== 'http') {
      const status = kind === 'cognito' ? 'cognito' : String((result as { status?: number } | undefined)?.status ?? 'event');
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
      return;
    }
    const { statusCode, body } = result as { statusCode: number; body: string };
    stats.statuses[statusCode] = (stats.statuses[statusCode] ?? 0) + 1;
    if (statusCode === 200 || statusCode === 202) return;
    if (statusCode !== 503) {
      stats.unexpected.push(`${operation.kind}: ${statusCode} ${body}`);
      return;
    }
  }
  stats.unexpected.push(`${operation.kind}: not accepted after ${MAX_ATTEMPTS} attempts`);
}
