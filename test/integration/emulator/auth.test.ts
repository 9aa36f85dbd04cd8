/** Signature and Basic auth, and the platform a request's signer implies. */
import { describe, expect, it } from 'vitest';
import { computeSign } from '../../../local/tpns-emulator/index.js';
import { BATCH, QUERY, bindBody, send, sign } from './tpns-http.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

const emulator = useTpnsEmulator();

describe('Sign', () => {
  // The example published on Tencent's auth page (see shared tpns-account-api.md).
  const example = {
    timeStamp: '1565314789',
    accessId: '1500001048',
    secretKey: '1452fcebae9f3115ba794fb0fff2fd73',
    body: '{"audience_type": "account","platform": "android","message": {"title": "test title","content": "test content","android": { "action": {"action_type": 3,"intent": "xgscheme://com.xg.push/notify_detail?param1=xg"}}},"message_type": "notify","account_list": ["5822f0eee44c3625ef0000bb"] }',
    sign: 'Y2QyMDc3NDY4MmJmNzhiZmRiNDNlMTdkMWQ1ZDU2YjNlNWI3ODlhMTY3MGZjMTUyN2VmNTRjNjVkMmQ3Yjc2ZA==',
  };

  it("the emulator's signature reproduces the published example", () => {
    expect(computeSign(example.secretKey, example.timeStamp, example.accessId, example.body)).toBe(example.sign);
    expect(Buffer.from(example.sign, 'base64').toString()).toBe('cd20774682bf78bfdb43e17d1d5d56b3e5b789a1670fc1527ef54c65d2d7b76d');
  });

  it("the tests' own signing helper agrees with the example too", () => {
    expect(sign(example.secretKey, example.timeStamp, example.accessId, example.body)).toBe(example.sign);
  });

  it('a correctly signed call is accepted and logged as `sign` for its platform', async () => {
    const answer = await send(emulator(), BATCH, bindBody('ios', [['tok-a', 'alice']]), { platform: 'ios' });
    expect(answer).toMatchObject({ status: 200, json: { ret_code: 0, result: ['0'] } });
    expect(emulator().accountsOf('ios', 'tok-a')).toEqual([{ account: 'alice', accountType: 0 }]);
    expect(emulator().requests()).toEqual([expect.objectContaining({ auth: 'sign', platform: 'ios', retCode: 0 })]);
  });

  it('Basic auth is accepted', async () => {
    const answer = await send(emulator(), BATCH, bindBody('android', [['tok-b', 'bob']]), { auth: 'basic' });
    expect(answer.json).toMatchObject({ ret_code: 0 });
    expect(emulator().requests()[0]).toMatchObject({ auth: 'basic', platform: 'android' });
  });

  it.each([
    ['no auth headers', { auth: 'none' as const }],
    ['a wrong SecretKey', { credentials: { accessId: '1500000001', secretKey: 'not-the-key' } }],
    ['an unknown AccessId', { credentials: { accessId: '1999999999', secretKey: 'emulator-android-secret-key' } }],
    ['Basic with a wrong SecretKey', { auth: 'basic' as const, credentials: { accessId: '1500000001', secretKey: 'nope' } }],
  ])('%s: HTTP 401, ret_code 1008003, nothing changes', async (_name, options) => {
    const answer = await send(emulator(), BATCH, bindBody('android', [['tok-c', 'carol']]), options);
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ ret_code: 1008003 });
    expect(emulator().accountsOf('android', 'tok-c')).toEqual([]);
    expect(emulator().requests()[0]).toMatchObject({ auth: 'none', httpStatus: 401, retCode: 1008003 });
    expect(emulator().requests()[0]).not.toHaveProperty('platform');
  });

  it('a body changed after signing fails auth', async () => {
    const { accessId, secretKey } = emulator().apps.android;
    const signed = JSON.stringify(bindBody('android', [['tok-d', 'dave']]));
    const sent = JSON.stringify(bindBody('android', [['tok-d', 'mallory']]));
    const timeStamp = String(Math.floor(Date.now() / 1000));
    const response = await fetch(`${emulator().url}${BATCH}`, {
      method: 'POST',
      headers: { AccessId: accessId, TimeStamp: timeStamp, Sign: sign(secretKey, timeStamp, accessId, signed) },
      body: sent,
    });
    expect(response.status).toBe(401);
    expect(emulator().accountsOf('android', 'tok-d')).toEqual([]);
  });
});

describe('platform of the signing app', () => {
  it('a body for android signed by the iOS app is refused with 1008007 and changes nothing', async () => {
    const answer = await send(emulator(), BATCH, bindBody('android', [['tok-e', 'erin']]), { platform: 'ios' });
    expect(answer).toMatchObject({ status: 200, json: { ret_code: 1008007 } });
    expect(String(answer.json.err_msg)).toContain('platform');
    expect(emulator().accountsOf('android', 'tok-e')).toEqual([]);
    expect(emulator().accountsOf('ios', 'tok-e')).toEqual([]);
  });

  it("queries read the signing app's data only (the apps are isolated)", async () => {
    await send(emulator(), BATCH, bindBody('android', [['tok-f', 'frank']]));
    const fromIos = await send(emulator(), QUERY, { operator_type: 2, token_list: ['tok-f'] }, { platform: 'ios' });
    const fromAndroid = await send(emulator(), QUERY, { operator_type: 2, token_list: ['tok-f'] });
    expect(fromIos.json).toMatchObject({ retCode: 10110008 });
    expect(fromAndroid.json).toMatchObject({ retCode: 0, token_accounts: [{ token: 'tok-f', account_list: [{ account: 'frank', account_type: 0 }] }] });
  });
});
