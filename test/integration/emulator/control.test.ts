/** The /_emulator/* control API over HTTP. */
import { describe, expect, it } from 'vitest';
import { BATCH, bindBody, control, send } from './tpns-http.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

const emulator = useTpnsEmulator({ invalidTokens: ['configured-bad'] });

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
      expect.objectContaining({
        seq: 1, receivedAt: expect.any(Number), path: BATCH, platform: 'android', operatorType: 2, items: 1,
        requested: [{ token: 't1', accounts: [{ account: 'alice', accountType: 0 }] }], retCode: 0, result: ['0'],
      }),
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
    expect((await control(emulator(), 'PUT', '/config', { propagationDelayMs: 60_000 })).json).toEqual({ propagationDelayMs: 60_000, applyWindow: null });
    await send(emulator(), BATCH, bindBody('android', [['t-late', 'alice']]));
    expect(emulator().state('android').pending).toBe(1);
    expect((await control(emulator(), 'PUT', '/config', { propagationDelayMs: -1 })).status).toBe(400);
  });

  it('config switches reordering on and off at run time: a later task overtakes a queued one only while it is on', async () => {
    const on = await control(emulator(), 'PUT', '/config', { applyWindow: { minMs: 300, maxMs: 300, seed: 5 } });
    expect(on).toEqual({ status: 200, json: { propagationDelayMs: 0, applyWindow: { minMs: 300, maxMs: 300, seed: 5 } } });
    expect((await control(emulator(), 'GET', '/config')).json).toEqual(on.json);
    expect(emulator().applyWindow()).toEqual({ minMs: 300, maxMs: 300, seed: 5 });
    await send(emulator(), BATCH, bindBody('android', [['t-r', 'alice']]));
    await control(emulator(), 'PUT', '/config', { applyWindow: { minMs: 0, maxMs: 0 } });
    await send(emulator(), BATCH, bindBody('android', [['t-r', 'bruno']]));
    // bruno overtook alice, who is still queued and lands on top of him.
    expect(emulator().accountsOf('android', 't-r')).toEqual([{ account: 'bruno', accountType: 0 }]);
    expect((await control(emulator(), 'GET', '/state?platform=android')).json).toMatchObject({ android: { pending: 1 } });
    expect((await control(emulator(), 'GET', '/idle')).json).toEqual({ idle: true, pending: { android: 0, ios: 0 } });
    expect(emulator().accountsOf('android', 't-r')).toEqual([{ account: 'alice', accountType: 0 }]);

    // Off again (propagation delay untouched): the same sequence keeps its order.
    const off = await control(emulator(), 'PUT', '/config', { applyWindow: null });
    expect(off.json).toEqual({ propagationDelayMs: 0, applyWindow: null });
    await control(emulator(), 'PUT', '/config', { propagationDelayMs: 300 });
    await send(emulator(), BATCH, bindBody('android', [['t-s', 'alice']]));
    await control(emulator(), 'PUT', '/config', { propagationDelayMs: 0 });
    await send(emulator(), BATCH, bindBody('android', [['t-s', 'bruno']]));
    expect(emulator().accountsOf('android', 't-s')).toEqual([]);
    await emulator().idle();
    expect(emulator().accountsOf('android', 't-s')).toEqual([{ account: 'bruno', accountType: 0 }]);
  });

  it.each([
    ['maxMs below minMs', { applyWindow: { minMs: 500, maxMs: 100 } }, 'applyWindow.maxMs'],
    ['a negative minMs', { applyWindow: { minMs: -1, maxMs: 100 } }, 'applyWindow.minMs'],
    ['a fractional seed', { applyWindow: { minMs: 0, maxMs: 100, seed: 1.5 } }, 'applyWindow.seed'],
    ['a misspelt window field', { applyWindow: { min: 0, maxMs: 100 } }, 'applyWindow'],
    ['a misspelt config field', { applywindow: null }, ''],
  ])('config refuses %s with a 400 naming it, and changes nothing', async (_name, body, path) => {
    const answer = await control(emulator(), 'PUT', '/config', body);
    expect(answer.status).toBe(400);
    expect(answer.json.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.stringContaining(path) })]));
    expect((await control(emulator(), 'GET', '/config')).json).toEqual({ propagationDelayMs: 0, applyWindow: null });
  });

  it('reset clears bindings, pending changes, log, counters and faults, and restores configured settings', async () => {
    await control(emulator(), 'PUT', '/invalid-tokens', { tokens: [] });
    await control(emulator(), 'PUT', '/config', { propagationDelayMs: 60_000 });
    await send(emulator(), BATCH, bindBody('android', [['t1', 'alice']]));
    await control(emulator(), 'PUT', '/config', { propagationDelayMs: 0 });
    await send(emulator(), BATCH, bindBody('android', [['t2', 'alice']]));
    await control(emulator(), 'POST', '/faults', { kind: 'internal' });
    await control(emulator(), 'PUT', '/config', { applyWindow: { minMs: 60_000, maxMs: 60_000 } });
    await send(emulator(), BATCH, bindBody('ios', [['t3', 'alice']]), { platform: 'ios' });

    expect((await control(emulator(), 'POST', '/reset')).status).toBe(200);
    expect(emulator().state('android')).toEqual({ tokens: [], accounts: [], pending: 0 });
    expect(emulator().state('ios')).toEqual({ tokens: [], accounts: [], pending: 0 });
    expect(emulator().requests()).toEqual([]);
    expect(emulator().counters().requests).toBe(0);
    expect(emulator().faults()).toEqual([]);
    expect((await control(emulator(), 'GET', '/invalid-tokens')).json).toEqual({ tokens: ['configured-bad'] });
    expect((await control(emulator(), 'GET', '/config')).json).toEqual({ propagationDelayMs: 0, applyWindow: null });
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
