import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authHeaders, basicAuthorization, signRequest } from '../../../lib/tpns/sign.js';

// Tencent's published example (tpns-account-api.md, "Signature auth").
const example = {
  timestamp: '1565314789',
  accessId: '1500001048',
  secretKey: '1452fcebae9f3115ba794fb0fff2fd73',
  body: '{"audience_type": "account","platform": "android","message": {"title": "test title","content": "test content","android": { "action": {"action_type": 3,"intent": "xgscheme://com.xg.push/notify_detail?param1=xg"}}},"message_type": "notify","account_list": ["5822f0eee44c3625ef0000bb"] }',
  hex: 'cd20774682bf78bfdb43e17d1d5d56b3e5b789a1670fc1527ef54c65d2d7b76d',
  sign: 'Y2QyMDc3NDY4MmJmNzhiZmRiNDNlMTdkMWQ1ZDU2YjNlNWI3ODlhMTY3MGZjMTUyN2VmNTRjNjVkMmQ3Yjc2ZA==',
};

describe('signRequest', () => {
  it('reproduces the published example exactly', () => {
    expect(signRequest(example.secretKey, example.timestamp, example.accessId, example.body)).toBe(example.sign);
  });

  it('is Base64 of the lowercase hex digest, not of the raw digest', () => {
    const decoded = Buffer.from(signRequest(example.secretKey, example.timestamp, example.accessId, example.body), 'base64');
    expect(decoded.toString('utf8')).toBe(example.hex);
    const rawDigest = createHmac('sha256', example.secretKey).update(example.timestamp + example.accessId + example.body).digest('base64');
    expect(signRequest(example.secretKey, example.timestamp, example.accessId, example.body)).not.toBe(rawDigest);
  });

  it('changes when one byte of the body changes', () => {
    expect(signRequest(example.secretKey, example.timestamp, example.accessId, `${example.body} `)).not.toBe(example.sign);
  });
});

describe('basicAuthorization', () => {
  it('is Basic base64(AccessId:SecretKey)', () => {
    const header = basicAuthorization('1500001048', 'secret');
    expect(header).toBe(`Basic ${Buffer.from('1500001048:secret').toString('base64')}`);
    expect(Buffer.from(header.slice('Basic '.length), 'base64').toString()).toBe('1500001048:secret');
  });
});

describe('authHeaders', () => {
  const app = { accessId: example.accessId, secretKey: example.secretKey };

  it('sign mode sends AccessId, TimeStamp in unix seconds, and the Sign of the exact body', () => {
    const headers = authHeaders('sign', app, example.body, 1565314789_999);
    expect(headers).toEqual({ AccessId: example.accessId, TimeStamp: example.timestamp, Sign: example.sign });
  });

  it('basic mode sends only Authorization', () => {
    expect(authHeaders('basic', app, example.body, 0)).toEqual({ Authorization: basicAuthorization(app.accessId, app.secretKey) });
  });
});
