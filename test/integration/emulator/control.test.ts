/** The /_emulator/* control API over HTTP. */
import { describe, expect, it } from 'vitest';
import { BATCH, bindBody, control, send, useEmulator } from './tpns-http.js';

const emulator = useEmulator({ invalidTokens: ['configured-bad'] });

describe('control API', () => {
  it('health names both apps by AccessId, without secrets', async () => {
    const { status, json } = await control(emulator(), 'GET', '/health');
    expect(status).toBe(200);
    expect(json).toEqual({ ok: true, apps: { android: { accessId: '1500000001' }, ios: { accessId: '1600000001' } } });
  });

  it('requests lists API calls (filterable by path and platform); control calls are not logged', async () => {
    await send(emulator(), BATCH, bindBody('android', [['t1', 'alice']]));
    await send(emulator(), BATCH, bindBody('ios', [['t2', 'alice']]), { platform: 'ios' });
    await control(emulator(), 'GET', '/state');
    const all = await control(emulator(), 'GET', '/requests');
    expect(all.json.requests).toEqual([
      expect.objectContaining({ seq: 1, path: BATCH, platform: 'android', operatorType: 2, items: 1, retCode: 0, result: ['0'] }),
      expect.objectContaining({ seq: 2, platform: 'ios' }),
    ]);
    const ios = await control(emulator(), 'GET', '/requests?platform=ios&path=batchoperate');
    expect(ios.json.requests).toHaveLength(1);
    expect((await control(emulator(), 'DELETE', '/requests')).status).toBe(200);
    expect((await control(emulator(), 'GET', '/requests')).json.requests).toEqual([]);
  });

  it('counters count calls by path, HTTP status, ret_code and fault', async () => {
    await send(emulator(), BATCH, bindBody('android', [['t1', 'alice']]));
    await send(emulator(), BATCH, {}, { auth: 'none' });
    const { json } = await control(emulator(), 'GET', '/counters');
    expect(json).toEqual({
      requests: 2,
      byPath: { [BATCH]: 2 },
      byHttpStatus: { 200: 1, 401: 1 },
      byRetCode: { 0: 1, 1008003: 1 },
      byFault: {},
      itemsApplied: 1,
      itemsFailed: 0,
    });
  });

  it('state shows the bindings of both apps, or of one with ?platform=', async () => {
    await send(emulator(), BATCH, bindBody('android', [['t1', 'alice', 1005]]));
    const both = await control(emulator(), 'GET', '/state');
    expect(both.json).toEqual({
      android: { tokens: [{ token: 't1', accounts: [{ account: 'alice', accountType: 1005 }] }], accounts: [{ account: 'alice', accountType: 1005, tokens: ['t1'] }], pending: 0 },
      ios: { tokens: [], accounts: [], pending: 0 },
    });
    expect(Object.keys((await control(emulator(), 'GET', '/state?platform=ios')).json)).toEqual(['ios']);
    expect((await control(emulator(), 'GET', '/state?platform=web')).status).toBe(400);
  });

  it('faults can be added, listed and cleared; a bad rule is a 400 naming the field', async () => {
    const added = await control(emulator(), 'POST', '/faults', { kind: 'rate-limit', count: 1, path: 'batchoperate', retryAfterSeconds: 2 });
    expect(added).toMatchObject({ status: 201, json: { fault: { id: expect.any(Number), kind: 'rate-limit', count: 1, fired: 0 } } });
    expect((await control(emulator(), 'GET', '/faults')).json.faults).toHaveLength(1);
    const answer = await send(emulator(), BATCH, bindBody('android', [['t1', 'alice']]));
    expect(answer.json).toMatchObject({ ret_code: 1008028 });
    expect(answer.headers.get('retry-after')).toBe('2');

    await control(emulator(), 'POST', '/faults', { kind: 'drop' });
    expect((await control(emulator(), 'DELETE', '/faults')).status).toBe(200);
    expect((await control(emulator(), 'GET', '/faults')).json.faults).toEqual([]);

    const bad = await control(emulator(), 'POST', '/faults', { kind: 'meteor', rate: 2 });
    expect(bad.status).toBe(400);
    expect(bad.json.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'kind' }), expect.objectContaining({ path: 'rate' })]));
  });

  it('invalid tokens can be replaced (PUT) and extended (POST)', async () => {
    expect((await control(emulator(), 'GET', '/invalid-tokens')).json).toEqual({ tokens: ['configured-bad'] });
    await control(emulator(), 'PUT', '/invalid-tokens', { tokens: ['bad-a'] });
    expect((await control(emulator(), 'POST', '/invalid-tokens', { tokens: ['bad-b'] })).json).toEqual({ tokens: ['bad-a', 'bad-b'] });
    const answer = await send(emulator(), BATCH, { operator_type: 4, platform: 'android', token_list: ['bad-b', 'configured-bad'] });
    expect(answer.json).toMatchObject({ result: ['1008006', '0'] });
    expect((await control(emulator(), 'PUT', '/invalid-tokens', { tokens: 'x' })).status).toBe(400);
  });

  it('config sets the propagation delay', async () => {
    expect((await control(emulator(), 'PUT', '/config', { propagationDelayMs: 60_000 })).json).toEqual({ propagationDelayMs: 60_000 });
    await send(emulator(), BATCH, bindBody('android', [['t-late', 'alice']]));
    expect(emulator().state('android').pending).toBe(1);
    expect((await control(emulator(), 'PUT', '/config', { propagationDelayMs: -1 })).status).toBe(400);
  });

  it('reset clears bindings, pending changes, log, counters and faults, and restores configured settings', async () => {
    await control(emulator(), 'PUT', '/invalid-tokens', { tokens: [] });
    await control(emulator(), 'PUT', '/config', { propagationDelayMs: 60_000 });
    await send(emulator(), BATCH, bindBody('android', [['t1', 'alice']]));
    await control(emulator(), 'PUT', '/config', { propagationDelayMs: 0 });
    await send(emulator(), BATCH, bindBody('android', [['t2', 'alice']]));
    await control(emulator(), 'POST', '/faults', { kind: 'internal' });

    expect((await control(emulator(), 'POST', '/reset')).status).toBe(200);
    expect(emulator().state('android')).toEqual({ tokens: [], accounts: [], pending: 0 });
    expect(emulator().requests()).toEqual([]);
    expect(emulator().counters().requests).toBe(0);
    expect(emulator().faults()).toEqual([]);
    expect((await control(emulator(), 'GET', '/invalid-tokens')).json).toEqual({ tokens: ['configured-bad'] });
    expect((await control(emulator(), 'GET', '/config')).json).toEqual({ propagationDelayMs: 0 });
  });

  it('unknown routes are 404, wrong methods 405, unparsable bodies 400', async () => {
    expect((await control(emulator(), 'GET', '/nope')).status).toBe(404);
    const wrong = await fetch(`${emulator().url}/_emulator/reset`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const broken = await fetch(`${emulator().url}/_emulator/faults`, { method: 'POST', body: '{' });
    expect(broken.status).toBe(400);
  });
});
