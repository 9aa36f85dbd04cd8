/**
 * A user's lifecycle over HTTP against the test stack (the HTTP API with its JWT authorizer in
 * front of the real handlers, TPNS emulator, fauxqs, dynalite, the worker): sign-in on two
 * platforms, sign-out, account deletion and its receipt, a shared device, and the answers to bad
 * input and bad credentials — each checked in the answers, in the ledger's view
 * (`GET /v1/me/devices`) AND in the emulator's state.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signDevToken } from '../../local/stack/jwt.js';
import { adminToken, callApi, startE2eStack, userToken } from './support.js';
import type { E2eStack } from './support.js';

let stack: E2eStack;

beforeAll(async () => {
  stack = await startE2eStack();
});

afterAll(async () => {
  await stack?.close();
});

// Every push queues its read-back: let the worker finish the previous test's before looking at
// this test's TPNS calls.
beforeEach(async () => {
  await stack.quiesce();
  stack.tpns.reset();
});

const emulator = () => stack.tpns;

interface Device {
  platform: string;
  token: string;
  state: 'pending' | 'applied' | 'verified' | 'drift';
  since: string;
}

async function devicesOf(token: string): Promise<{ platform: string; token: string }[]> {
  const answer = await callApi(stack, 'GET', '/v1/me/devices', { token });
  expect(answer.status).toBe(200);
  return (answer.body as { devices: Device[] }).devices.map(({ platform, token: device }) => ({ platform, token: device }));
}

async function statesOf(token: string): Promise<string[]> {
  const answer = await callApi(stack, 'GET', '/v1/me/devices', { token });
  return (answer.body as { devices: Device[] }).devices.map((device) => device.state);
}

/** Pushes queue their read-backs (and what TPNS did not take, its push): wait until the worker is done. */
const workerDone = () => stack.quiesce();

describe('a user on an Android phone and an iPhone', () => {
  it('is listed with both devices after signing in, loses one at sign-out, and nothing after deletion', async () => {
    const alice = await userToken('alice');

    const android = await callApi(stack, 'PUT', '/v1/me/devices/alice-android-1', { token: alice, body: { platform: 'android' } });
    const ios = await callApi(stack, 'PUT', '/v1/me/devices/alice-iphone-1', { token: alice, body: { platform: 'ios' } });
    expect(android.status).toBe(200);
    expect(android.body).toMatchObject({ applied: 1, failed: [] });
    expect(ios.status).toBe(200);
    expect(emulator().tokensOf('android', 'alice')).toEqual(['alice-android-1']);
    expect(emulator().tokensOf('ios', 'alice')).toEqual(['alice-iphone-1']);
    expect(await devicesOf(alice)).toEqual(
      expect.arrayContaining([
        { platform: 'android', token: 'alice-android-1' },
        { platform: 'ios', token: 'alice-iphone-1' },
      ]),
    );
    expect(await devicesOf(alice)).toHaveLength(2);
    await workerDone();
    expect(await statesOf(alice)).toEqual(['verified', 'verified']); // read back from TPNS

    const signOut = await callApi(stack, 'DELETE', '/v1/me/devices/alice-iphone-1?platform=ios', { token: alice });
    expect(signOut.status).toBe(200);
    await workerDone();
    expect(await devicesOf(alice)).toEqual([{ platform: 'android', token: 'alice-android-1' }]);
    expect(emulator().accountsOf('ios', 'alice-iphone-1')).toEqual([]);

    const deletion = await callApi(stack, 'DELETE', '/v1/me', { token: alice });
    expect(deletion.status).toBe(200);
    expect(deletion.body).toMatchObject({ applied: 2, failed: [] });
    await workerDone();
    expect(await devicesOf(alice)).toEqual([]);
    for (const platform of ['android', 'ios'] as const) {
      expect(emulator().tokensOf(platform, 'alice')).toEqual([]);
      expect(emulator().state(platform).tokens.filter((entry) => entry.token.startsWith('alice-'))).toEqual([]);
    }
    // Deletion reached both TPNS apps with op 5.
    const deletions = emulator()
      .requests()
      .filter((entry) => entry.path.endsWith('/batchoperate') && entry.operatorType === 5);
    expect(new Set(deletions.map((entry) => entry.platform))).toEqual(new Set(['android', 'ios']));

    // The receipt, for the admin only: requested, applied and verified empty on both apps.
    expect((await callApi(stack, 'GET', '/v1/admin/erasures/alice', { token: alice })).status).toBe(403);
    const receipt = await callApi(stack, 'GET', '/v1/admin/erasures/alice', { token: await adminToken() });
    expect(receipt).toMatchObject({
      status: 200,
      body: { account: 'alice', state: 'verified', apps: { android: { appliedAt: expect.any(String), verifiedAt: expect.any(String) }, ios: { verifiedAt: expect.any(String) } } },
    });
    expect((await callApi(stack, 'GET', '/v1/admin/erasures/never-deleted', { token: await adminToken() })).status).toBe(404);
  });
});

describe('a shared device', () => {
  it('belongs only to the user who signed in on it last', async () => {
    const alice = await userToken('alice');
    const bob = await userToken('bob');
    expect((await callApi(stack, 'PUT', '/v1/me/devices/family-tablet', { token: alice, body: { platform: 'android' } })).status).toBe(200);
    expect((await callApi(stack, 'PUT', '/v1/me/devices/family-tablet', { token: bob, body: { platform: 'android' } })).status).toBe(200);
    expect(emulator().accountsOf('android', 'family-tablet')).toEqual([{ account: 'bob', accountType: 0 }]);
    await workerDone(); // and after the worker read both pushes back

    expect(emulator().accountsOf('android', 'family-tablet')).toEqual([{ account: 'bob', accountType: 0 }]);
    expect(await devicesOf(bob)).toEqual([{ platform: 'android', token: 'family-tablet' }]);
    expect(await devicesOf(alice)).toEqual([]);
  });
});

describe('refused requests never reach TPNS', () => {
  const noTpnsCalls = () => expect(emulator().requests()).toEqual([]);

  it('answers 400 naming the problem for malformed JSON', async () => {
    const answer = await callApi(stack, 'PUT', '/v1/me/devices/alice-android-1', { token: await userToken('alice'), body: '{"platform":' });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: expect.any(String) as string });
    noTpnsCalls();
  });

  it('answers 400 naming a prototype-pollution key instead of calling it malformed JSON', async () => {
    const answer = await callApi(stack, 'PUT', '/v1/me/devices/alice-android-1', {
      token: await userToken('alice'),
      body: '{"platform":"android","__proto__":{"polluted":true}}',
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ issues: [{ path: 'body', message: 'must not contain the key "__proto__"' }] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    noTpnsCalls();
  });

  it('answers 400 with the failing field for a body that does not fit the schema', async () => {
    const answer = await callApi(stack, 'PUT', '/v1/me/devices/alice-android-1', {
      token: await userToken('alice'),
      body: { platform: 'windows-phone' },
    });
    expect(answer.status).toBe(400);
    const { issues } = answer.body as { issues: { path: string; message: string }[] };
    expect(issues.map((issue) => issue.path).join(' ')).toContain('platform');
    noTpnsCalls();
  });

  it('answers 401 without a JWT and with an expired one', async () => {
    const missing = await callApi(stack, 'PUT', '/v1/me/devices/alice-android-1', { body: { platform: 'android' } });
    const expiredToken = await signDevToken('alice', { expiresIn: Math.floor(Date.now() / 1000) - 1 });
    const expired = await callApi(stack, 'PUT', '/v1/me/devices/alice-android-1', { token: expiredToken, body: { platform: 'android' } });
    for (const answer of [missing, expired]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ message: 'Unauthorized' });
    }
    noTpnsCalls();
  });

  it('answers 403 on an admin route without the admin scope, and accepts the same call with it', async () => {
    const body = { items: [{ token: 'tok-forbidden-1', account: 'carol', platform: 'android' }] };
    const refused = await callApi(stack, 'POST', '/v1/admin/bindings', { token: await userToken('alice'), body });
    expect(refused.status).toBe(403);
    noTpnsCalls();

    const accepted = await callApi(stack, 'POST', '/v1/admin/bindings', { token: await adminToken(), body });
    expect(accepted.status).toBe(200);
    expect(emulator().accountsOf('android', 'tok-forbidden-1')).toEqual([{ account: 'carol', accountType: 0 }]);
  });

  it('answers 404 for a route serverless.yml does not declare', async () => {
    const answer = await callApi(stack, 'GET', '/v1/me/everything', { token: await userToken('alice') });
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ message: 'Not Found' });
    noTpnsCalls();
  });
});
