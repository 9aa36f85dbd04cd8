/**
 * A user's lifecycle over HTTP against the local stack (real handlers, TPNS emulator, fauxqs):
 * sign-in on two platforms, sign-out, account deletion, a shared device, and the answers to bad
 * input and bad credentials — each checked in the answers AND in the emulator's state.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signDevToken } from '../../local/stack/jwt.js';
import type { Stack } from '../../local/stack/stack.js';
import { adminToken, callApi, startTestStack, userToken } from './support.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

// Every sign-in (and bulk) also queues a copy: let the worker apply the previous test's before
// looking at this test's TPNS calls.
beforeEach(async () => {
  await stack.worker.drained();
  stack.emulator?.reset();
});

const emulator = () => {
  if (!stack.emulator) throw new Error('these tests need the TPNS emulator (unset TPNS_* credentials)');
  return stack.emulator;
};

interface DeviceList {
  account: string;
  devices: { platform: string; token: string }[];
}

async function devicesOf(token: string): Promise<DeviceList['devices']> {
  const answer = await callApi(stack, 'GET', '/v1/me/devices', { token });
  expect(answer.status).toBe(200);
  return (answer.body as DeviceList).devices;
}

/** Sign-ins and sign-outs queue confirmations; wait until the worker has applied them too. */
const workerDone = () => stack.worker.drained();

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

    const signOut = await callApi(stack, 'DELETE', '/v1/me/devices/alice-iphone-1?platform=ios', { token: alice });
    expect(signOut.status).toBe(200);
    await workerDone();
    expect(await devicesOf(alice)).toEqual([{ platform: 'android', token: 'alice-android-1' }]);
    expect(emulator().accountsOf('ios', 'alice-iphone-1')).toEqual([]);

    const deletion = await callApi(stack, 'DELETE', '/v1/me', { token: alice });
    expect(deletion.status).toBe(200);
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
  });
});

describe('a shared device', () => {
  it('belongs only to the user who signed in on it last', async () => {
    const alice = await userToken('alice');
    const bob = await userToken('bob');
    expect((await callApi(stack, 'PUT', '/v1/me/devices/family-tablet', { token: alice, body: { platform: 'android' } })).status).toBe(200);
    expect((await callApi(stack, 'PUT', '/v1/me/devices/family-tablet', { token: bob, body: { platform: 'android' } })).status).toBe(200);
    expect(emulator().accountsOf('android', 'family-tablet')).toEqual([{ account: 'bob', accountType: 0 }]);
    await workerDone(); // and after the queue replayed both sign-ins

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
