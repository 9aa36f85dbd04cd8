/**
 * The account is only ever the verified JWT claim: nothing in the path, query or body can make a
 * user act on, or read, another account. Admin routes need the admin scope, exactly.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as deleteAccount } from '../../functions/delete-account.js';
import { handler as login } from '../../functions/login.js';
import { handler as logout } from '../../functions/logout.js';
import { handler as query } from '../../functions/query.js';
import { httpEvent, invokeHttp } from '../integration/functions/harness.js';
import { useStack } from '../support/use-stack.js';
import type { Stack } from '../support/stack.js';

const VICTIM = 'victim-0001';
const ATTACKER = 'attacker-0002';
const VICTIM_TOKEN = 'victimdevicetoken0001';
const ATTACKER_TOKEN = 'attackerdevicetoken0002';

let stack: Stack;
useStack((started) => (stack = started), { emulator: { env: {} } });
beforeEach(async () => {
  stack.tpns.reset();
  // The victim is signed in on their phone.
  const answer = await invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { account: VICTIM, pathParameters: { token: VICTIM_TOKEN }, body: { platform: 'ios' } }));
  expect(answer.statusCode).toBe(200);
});

const victimStillBound = () => expect(stack.tpns.tokensOf('ios', VICTIM)).toEqual([VICTIM_TOKEN]);

describe('a user cannot act for another account', () => {
  it('cannot bind a token to another account through the body', async () => {
    for (const body of [{ platform: 'ios', account: VICTIM }, { platform: 'ios', sub: VICTIM }, { platform: 'ios', accounts: [VICTIM] }]) {
      const answer = await invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { account: ATTACKER, pathParameters: { token: ATTACKER_TOKEN }, body }));
      expect(answer.statusCode).toBe(400);
      // The smuggled key is named: `body.account`, `body.sub`, `body.accounts`.
      const smuggled = Object.keys(body).find((key) => key !== 'platform');
      expect(answer.body.issues).toEqual(expect.arrayContaining([{ path: `body.${smuggled}`, message: 'unknown key' }]));
    }
    expect(stack.tpns.accountsOf('ios', ATTACKER_TOKEN)).toEqual([]);
  });

  it('binds to the caller only, whatever the query says', async () => {
    const answer = await invokeHttp(
      login,
      httpEvent('PUT /v1/me/devices/{token}', { account: ATTACKER, pathParameters: { token: ATTACKER_TOKEN }, query: { account: VICTIM, sub: VICTIM }, body: { platform: 'ios' } }),
    );
    expect(answer.statusCode).toBe(200);
    expect(stack.tpns.accountsOf('ios', ATTACKER_TOKEN)).toEqual([{ account: ATTACKER, accountType: 0 }]);
    victimStillBound();
  });

  it("cannot read another account's devices", async () => {
    await invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { account: ATTACKER, pathParameters: { token: ATTACKER_TOKEN }, body: { platform: 'android' } }));
    const answer = await invokeHttp(query, httpEvent('GET /v1/me/devices', { account: ATTACKER, query: { account: VICTIM, sub: VICTIM } }));
    expect(answer.statusCode).toBe(200);
    // The ledger lists the attacker's own devices (this test's and the earlier tests'), never the victim's.
    const { account, devices } = answer.body as { account: string; devices: { platform: string; token: string }[] };
    expect(account).toBe(ATTACKER);
    expect(devices).toContainEqual(expect.objectContaining({ platform: 'android', token: ATTACKER_TOKEN }));
    expect(devices.every((device) => device.token === ATTACKER_TOKEN)).toBe(true);
    expect(JSON.stringify(answer.body)).not.toContain(VICTIM_TOKEN);
    // Nor what TPNS holds for it.
    const live = await invokeHttp(query, httpEvent('GET /v1/me/devices', { account: ATTACKER, query: { account: VICTIM, source: 'tpns' } }));
    expect(live.body).toEqual({ account: ATTACKER, devices: [{ platform: 'android', token: ATTACKER_TOKEN }] });
  });

  it('cannot erase another account', async () => {
    const answer = await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: ATTACKER, query: { account: VICTIM } }));
    expect(answer.statusCode).toBe(200);
    victimStillBound();
    const deletions = stack.tpns.requests().filter((entry) => entry.operatorType === 5).map((entry) => JSON.stringify(entry.body));
    expect(deletions).toHaveLength(2); // the attacker's own account, on both apps
    expect(deletions.filter((body) => body.includes(VICTIM))).toEqual([]);
  });

  it('needs a verified JWT with the account claim (401)', async () => {
    const routes = [
      [login, 'PUT /v1/me/devices/{token}', { pathParameters: { token: ATTACKER_TOKEN }, body: { platform: 'ios' } }],
      [logout, 'DELETE /v1/me/devices/{token}', { pathParameters: { token: VICTIM_TOKEN }, query: { platform: 'ios' } }],
      [deleteAccount, 'DELETE /v1/me', {}],
      [query, 'GET /v1/me/devices', {}],
    ] as const;
    for (const [handler, routeKey, request] of routes) {
      expect((await invokeHttp(handler, httpEvent(routeKey, { ...request, account: null }))).statusCode).toBe(401);
    }
    victimStillBound();
  });
});

describe('admin routes need the admin scope', () => {
  it.each(['', 'openid profile', 'tpns/admin-readonly', 'tpns/Admin'])("refuses an account's erasure receipt to the scope list \"%s\" (403)", async (scope) => {
    await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'receipt-owner-1' }));
    const answer = await invokeHttp(query, httpEvent('GET /v1/admin/erasures/{account}', { account: ATTACKER, scope, pathParameters: { account: 'receipt-owner-1' } }));
    expect(answer.statusCode).toBe(403);
    expect(JSON.stringify(answer.body)).not.toContain('requestedAt');
    const admin = await invokeHttp(query, httpEvent('GET /v1/admin/erasures/{account}', { account: 'ops-admin', scope: 'tpns/admin', pathParameters: { account: 'receipt-owner-1' } }));
    expect(admin).toMatchObject({ statusCode: 200, body: { account: 'receipt-owner-1' } });
  });

  const adminRoutes = [
    [login, 'POST /v1/admin/bindings', { items: [{ token: VICTIM_TOKEN, account: ATTACKER, platform: 'ios' }] }],
    [logout, 'POST /v1/admin/unbind-tokens', { platform: 'ios', tokens: [VICTIM_TOKEN] }],
    [deleteAccount, 'POST /v1/admin/delete-accounts', { accounts: [{ account: VICTIM }] }],
  ] as const;

  it.each(['', 'openid profile', 'tpns/admin-readonly', 'xtpns/admin', 'tpns/Admin', 'tpns', '[tpns/adminx]'])('refuses the scope list "%s" with 403', async (scope) => {
    for (const [handler, routeKey, body] of adminRoutes) {
      const answer = await invokeHttp(handler, httpEvent(routeKey, { account: ATTACKER, scope, body }));
      expect(answer.statusCode).toBe(403);
      expect(answer.body.error).toContain('tpns/admin');
    }
    victimStillBound();
    expect(stack.tpns.requests().filter((entry) => entry.operatorType !== 2)).toEqual([]);
  });

  it('accepts the exact scope among others', async () => {
    const answer = await invokeHttp(logout, httpEvent('POST /v1/admin/unbind-tokens', { account: 'ops-admin', scope: 'openid tpns/admin email', body: { platform: 'ios', tokens: [VICTIM_TOKEN] } }));
    expect(answer.statusCode).toBe(200);
    expect(stack.tpns.tokensOf('ios', VICTIM)).toEqual([]);
  });
});
