import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grantedScopes } from '../../../lib/triggers/http-api.js';
import { InvalidInputError, UnrecognizedEventError } from '../../../lib/triggers/issues.js';
import { recognizeTrigger } from '../../../lib/triggers/recognize.js';
import type { HttpApiEvent } from '../../../lib/triggers/http-api.js';
import type { TriggerKind } from '../../../lib/triggers/recognize.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

const options = { accountClaim: 'sub', invocationId: 'lambda-request-1' };
const ALL: TriggerKind[] = ['http', 'account.login', 'account.logout', 'account.deleted', 'auth0.sdu', 'cognito.post-authentication'];

describe('recognizeTrigger', () => {
  it('recognises an API Gateway HTTP API v2 request by its shape', () => {
    const trigger = recognizeTrigger(fixture('http-api-v2-put-device'), ALL, options);
    expect(trigger.kind).toBe('http');
    expect(trigger.correlationId).toBe('JKJaXmPLvHcESHA=');
  });

  it('recognises account.* events, taking the publisher eventId as correlation id', () => {
    const login = recognizeTrigger(fixture('eventbridge-account-login'), ALL, options);
    expect(login).toMatchObject({ kind: 'account.login', correlationId: 'login-7f3c2a', input: { account: 'user-1001', platform: 'android' } });
    expect(recognizeTrigger(fixture('eventbridge-account-logout'), ALL, options).kind).toBe('account.logout');
    const deleted = recognizeTrigger(fixture('eventbridge-account-deleted'), ALL, options);
    expect(deleted).toMatchObject({ kind: 'account.deleted', correlationId: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a' });
  });

  it('recognises an Auth0 sdu log event; the account is the Auth0 user_id', () => {
    expect(recognizeTrigger(fixture('eventbridge-auth0-sdu'), ALL, options)).toMatchObject({
      kind: 'auth0.sdu',
      input: { account: 'auth0|5f7c8ec7c33c6c004bbafe82' },
    });
  });

  it('takes the Cognito account from the configured attribute, else the user name', () => {
    const event = fixture('cognito-post-authentication');
    expect(recognizeTrigger(event, ALL, options)).toMatchObject({
      kind: 'cognito.post-authentication',
      correlationId: 'lambda-request-1',
      account: 'f4c8e4a2-7b1d-4e6f-9a3c-2d5e8f1a6b7c',
      device: { token: '0a1b2c3d4e5f60718293a4b5c6d7e8f9', platform: 'ios' },
    });
    expect(recognizeTrigger(event, ALL, { ...options, accountClaim: 'custom:uid' })).toMatchObject({ account: 'jane' });
  });

  it('binds nothing from Cognito when the sign-in passed no push token', () => {
    const event = fixture('cognito-post-authentication');
    event.request = { userAttributes: { sub: 'user-1001' }, clientMetadata: { pushPlatform: 'ios' } };
    const trigger = recognizeTrigger(event, ALL, options);
    expect(trigger).toMatchObject({ kind: 'cognito.post-authentication', account: 'user-1001' });
    expect(trigger).not.toHaveProperty('device');
  });

  it('names the bad field of a recognised event', () => {
    const event = fixture('eventbridge-account-login');
    event.detail = { account: 'user-1001', token: 'has space', platform: 'web', occurredAt: 'yesterday' };
    try {
      recognizeTrigger(event, ['account.login'], options);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues.map((issue) => issue.path).sort()).toEqual(['detail.occurredAt', 'detail.platform', 'detail.token']);
    }
  });

  it('names what was expected when the event is of another shape', () => {
    expect(() => recognizeTrigger(fixture('eventbridge-account-logout'), ['http', 'account.login'], options)).toThrowError(
      new UnrecognizedEventError(['an API Gateway HTTP API request (payload format 2.0)', 'an EventBridge "account.login" event']),
    );
    expect(() => recognizeTrigger({ Records: [] }, ['auth0.sdu'], options)).toThrow(/Auth0 log-stream event of type "sdu"/);
  });
});

describe('grantedScopes', () => {
  const withJwt = (claims: Record<string, unknown>, scopes: string[] | null): HttpApiEvent => {
    const event = fixture('http-api-v2-put-device') as unknown as HttpApiEvent;
    return { ...event, requestContext: { ...event.requestContext, authorizer: { jwt: { claims, scopes } } } } as HttpApiEvent;
  };

  it('merges the authorizer scopes, the space-separated scope claim and the scp claim', () => {
    expect([...grantedScopes(withJwt({ scope: 'openid tpns/admin' }, null))]).toEqual(['openid', 'tpns/admin']);
    expect([...grantedScopes(withJwt({ scp: '[tpns/admin email]' }, ['openid']))]).toEqual(['openid', 'tpns/admin', 'email']);
    expect([...grantedScopes(withJwt({ scp: ['tpns/admin'] }, null))]).toEqual(['tpns/admin']);
  });
});
