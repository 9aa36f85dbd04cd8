/**
 * JWT claims of any shape: only the account claim and the scope are read. Real identity
 * providers send objects (Cognito's `identities`, Auth0's namespaced claims) next to them.
 */
import { describe, expect, it } from 'vitest';
import { handler as login } from '../../../functions/login.js';
import { handler as query } from '../../../functions/query.js';
import { useStack } from '../../support/use-stack.js';
import { startQuietStack } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';
import { httpEvent, invokeHttp } from './harness.js';

let stack: Stack;
useStack((started) => (stack = started), {}, startQuietStack);

/** The event with extra claims merged into its verified JWT claims. */
function withClaims(event: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const context = event.requestContext as { authorizer: { jwt: { claims: Record<string, unknown> } } };
  return { ...event, requestContext: { ...context, authorizer: { jwt: { ...context.authorizer.jwt, claims: { ...context.authorizer.jwt.claims, ...extra } } } } };
}

const COGNITO_IDENTITIES = {
  identities: [{ userId: '1234567890', providerName: 'Google', providerType: 'Google', issuer: null, primary: 'true', dateCreated: '1700000000000' }],
  'cognito:groups': ['admins', 'staff'],
};
const AUTH0_NAMESPACED = { 'https://example.com/app_metadata': { plan: 'pro', roles: ['editor'] }, email_verified: true, updated_at: '2026-11-30T10:00:00.000Z' };

describe('object-valued claims', () => {
  it.each([
    ['Cognito identities', COGNITO_IDENTITIES],
    ['Auth0 namespaced objects', AUTH0_NAMESPACED],
  ])('a sign-in with %s next to the account claim is accepted', async (_name, extra) => {
    const event = withClaims(httpEvent('PUT /v1/me/devices/{token}', { account: 'claims-user-1', pathParameters: { token: 'claims-token-1' }, body: { platform: 'android' } }), extra);
    const answer = await invokeHttp(login, event);
    expect(answer).toMatchObject({ statusCode: 200, body: { applied: 1 } });
    expect(stack.tpns.accountsOf('android', 'claims-token-1')).toEqual([{ account: 'claims-user-1', accountType: 0 }]);
  });

  it('an object where the account claim should be is a 401, not a 500', async () => {
    const event = withClaims(httpEvent('GET /v1/me/devices', { account: 'claims-user-2' }), { sub: { id: 'claims-user-2' } });
    const answer = await invokeHttp(query, event);
    expect(answer.statusCode).toBe(401);
    expect(answer.headers['WWW-Authenticate']).toMatch(/^Bearer realm="tpns-account-sync", error_description=".*sub.*"$/);
  });

  it('a request without verified claims gets a 401 with WWW-Authenticate saying what is missing', async () => {
    const answer = await invokeHttp(query, httpEvent('GET /v1/me/devices', { account: null }));
    expect(answer.statusCode).toBe(401);
    expect(answer.headers['WWW-Authenticate']).toContain("A verified JWT with the 'sub' claim is required");
  });
});
