/**
 * The events the triggers deliver, shaped like the recorded fixtures (test/fixtures): EventBridge
 * `account.*`, Auth0 `sdu` log events, the Cognito Post authentication trigger. HTTP events are
 * test/integration/functions/harness.ts's `httpEvent`.
 */
import { randomUUID } from 'node:crypto';
import { fixture } from '../../integration/functions/harness.js';

export const ADMIN_SCOPE = 'tpns/admin';

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
