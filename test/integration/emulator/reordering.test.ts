/**
 * Reordering mode (applyWindow): each batchoperate task is applied after its own random delay,
 * so tasks on one token can land out of order; queries see only applied tasks; idle() and
 * /_emulator/idle tell when everything accepted has been applied.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { emulatorSettingsFromEnv, startTpnsEmulator } from '../../../local/tpns-emulator/index.js';
import type { ApplyWindow, TpnsEmulator } from '../../../local/tpns-emulator/index.js';
import { BATCH, QUERY, bindBody, control, send, type Platform } from './tpns-http.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

/** The random source the file's emulator draws window delays from: each test queues its own draws. */
const draws: number[] = [];
const emulator = useTpnsEmulator({ random: () => draws.shift() ?? 0 });
beforeEach(() => {
  draws.length = 0; // a draw one test left unused must not steer the next
});

const WIDE: ApplyWindow = { minMs: 0, maxMs: 1_000 };

const bind = (target: TpnsEmulator, token: string, account: string, platform: Platform = 'android') =>
  send(target, BATCH, bindBody(platform, [[token, account]]), { platform });

const accountOf = (target: TpnsEmulator, token: string): string | undefined => target.accountsOf('android', token)[0]?.account;

const queryToken = async (token: string) => (await send(emulator(), QUERY, { operator_type: 2, token_list: [token] })).json;

describe('reordering mode', () => {
  it('bind A then bind B on one token can end bound to A: B is applied first, A after it', async () => {
    emulator().setApplyWindow(WIDE);
    draws.push(0.6, 0.1); // A after 600 ms, B after 100 ms
    expect((await bind(emulator(), 'tok-r', 'alice')).json).toMatchObject({ ret_code: 0, result: ['0'] });
    expect((await bind(emulator(), 'tok-r', 'bruno')).json).toMatchObject({ ret_code: 0, result: ['0'] });
    expect(emulator().state('android').pending).toBe(2);

    await expect.poll(() => accountOf(emulator(), 'tok-r'), { timeout: 450, interval: 5 }).toBe('bruno');
    expect(emulator().state('android').pending).toBe(1); // A, sent first, is still queued
    expect(await queryToken('tok-r')).toMatchObject({ token_accounts: [{ token: 'tok-r', account_list: [{ account: 'bruno', account_type: 0 }] }] });

    await emulator().idle();
    expect(emulator().accountsOf('android', 'tok-r')).toEqual([{ account: 'alice', accountType: 0 }]);
    expect(emulator().tokensOf('android', 'bruno')).toEqual([]);
    const [sentA, sentB] = emulator().requests();
    expect(sentA?.receivedAt).toBeLessThanOrEqual(sentB?.receivedAt ?? 0);
    expect(Date.now() - (sentA?.receivedAt ?? 0)).toBeGreaterThanOrEqual(590);
  });

  it('each item of one call is a task of its own with its own delay', async () => {
    emulator().setApplyWindow(WIDE);
    draws.push(0.6, 0.05); // first item after 600 ms, second after 50 ms
    await send(emulator(), BATCH, bindBody('android', [['tok-i', 'first'], ['tok-i', 'second']]));
    await expect.poll(() => accountOf(emulator(), 'tok-i'), { timeout: 450, interval: 5 }).toBe('second');
    await emulator().idle();
    expect(accountOf(emulator(), 'tok-i')).toBe('first');
  });

  it('a query before the task is applied does not see it; after, it does (both query ops)', async () => {
    emulator().setApplyWindow(WIDE);
    draws.push(0.3);
    await send(emulator(), BATCH, bindBody('android', [['tok-q', 'quinn', 1005]]));
    const byAccount = { operator_type: 1, account_list: [{ account: 'quinn', account_type: 1005 }] };
    expect(await queryToken('tok-q')).toMatchObject({ retCode: 10110008, token_accounts: [{ token: 'tok-q', account_list: [] }] });
    expect((await send(emulator(), QUERY, byAccount)).json).toMatchObject({ retCode: 10110008, account_tokens: [{ token_list: [] }] });

    await emulator().idle();
    expect(await queryToken('tok-q')).toMatchObject({ retCode: 0, token_accounts: [{ account_list: [{ account: 'quinn', account_type: 1005 }] }] });
    expect((await send(emulator(), QUERY, byAccount)).json).toMatchObject({ retCode: 0, account_tokens: [{ token_list: ['tok-q'] }] });
  });

  it('every kind of task is delayed and reordered: an unbind sent after a bind can be applied before it', async () => {
    emulator().setApplyWindow(WIDE);
    draws.push(0.3, 0.05);
    await bind(emulator(), 'tok-u', 'ursula');
    await send(emulator(), BATCH, { operator_type: 4, platform: 'android', token_list: ['tok-u'] });
    await emulator().idle();
    expect(accountOf(emulator(), 'tok-u')).toBe('ursula'); // the stale bind landed last
  });

  it('with a seed the same draws repeat: setting the window again restarts them', async () => {
    // Seed 18 draws pairs at least 117 ms apart in a 1 s window, far more than the few ms
    // between two calls, so the arrival gap cannot flip a pair's outcome.
    const window: ApplyWindow = { ...WIDE, seed: 18 };
    const run = async (round: number): Promise<string> => {
      emulator().setApplyWindow(window);
      for (let pair = 0; pair < 8; pair += 1) {
        await bind(emulator(), `seed-${round}-${pair}`, 'alice');
        await bind(emulator(), `seed-${round}-${pair}`, 'bruno');
      }
      await emulator().idle();
      return Array.from({ length: 8 }, (_, pair) => (accountOf(emulator(), `seed-${round}-${pair}`) === 'alice' ? 'A' : 'B')).join('');
    };
    draws.push(0.5);
    const first = await run(1);
    expect(first).toMatch(/A/); // some pair ended on the stale bind
    expect(first).toMatch(/B/); // and some did not: the order is drawn, not reversed
    expect(await run(2)).toBe(first);
    expect(draws).toEqual([0.5]); // a seeded window does not use the `random` option
  });
});

describe('default mode (no window)', () => {
  it('tasks land in the order accepted, even when a later one has a shorter delay', async () => {
    draws.push(0.9, 0.1);
    emulator().setPropagationDelay(400);
    await bind(emulator(), 'tok-d', 'alice');
    emulator().setPropagationDelay(50);
    await bind(emulator(), 'tok-d', 'bruno');
    await sleep(150);
    // Independent delays would have applied B by now; in order it waits behind A.
    expect(emulator().accountsOf('android', 'tok-d')).toEqual([]);
    expect(emulator().state('android').pending).toBe(2);
    await emulator().idle();
    expect(accountOf(emulator(), 'tok-d')).toBe('bruno');
    expect(draws).toHaveLength(2); // the random source is not consulted
  });

  it('switching the window off puts new tasks behind every queued one again', async () => {
    emulator().setApplyWindow({ minMs: 300, maxMs: 300 });
    await bind(emulator(), 'tok-o', 'alice');
    emulator().setApplyWindow(null);
    await bind(emulator(), 'tok-o', 'bruno'); // propagation delay 0, but A is queued
    expect(emulator().accountsOf('android', 'tok-o')).toEqual([]);
    await emulator().idle();
    expect(accountOf(emulator(), 'tok-o')).toBe('bruno');
  });

  it('while the window is on, the propagation delay is not used', async () => {
    emulator().setPropagationDelay(60_000);
    emulator().setApplyWindow({ minMs: 0, maxMs: 0 });
    await bind(emulator(), 'tok-w', 'wanda');
    expect(accountOf(emulator(), 'tok-w')).toBe('wanda');
  });
});

describe('waiting for quiescence', () => {
  it('idle() resolves once every task of both apps is applied, including tasks accepted while it waits', async () => {
    emulator().setApplyWindow({ minMs: 300, maxMs: 300 });
    await bind(emulator(), 'tok-1', 'alice'); // due in 300 ms
    let settled = false;
    const waiting = emulator().idle().then(() => (settled = true));
    await sleep(200);
    const secondSent = Date.now();
    await bind(emulator(), 'tok-2', 'alice', 'ios'); // due 300 ms after it is sent, after the first
    await sleep(150);
    expect(accountOf(emulator(), 'tok-1')).toBe('alice'); // the first is applied ...
    expect(settled).toBe(false); // ... but idle() waits for the one accepted while it waited
    await waiting;
    expect(Date.now() - secondSent).toBeGreaterThanOrEqual(295);
    expect(emulator().accountsOf('ios', 'tok-2')).toEqual([{ account: 'alice', accountType: 0 }]);
    expect([emulator().state('android').pending, emulator().state('ios').pending]).toEqual([0, 0]);
  });

  it('idle() with nothing pending resolves at once', async () => {
    const started = performance.now();
    await emulator().idle();
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('GET /_emulator/idle answers when all is applied, or after timeoutMs with what is still pending', async () => {
    emulator().setApplyWindow({ minMs: 200, maxMs: 200 });
    await bind(emulator(), 'tok-h', 'hana');
    const started = Date.now();
    expect(await control(emulator(), 'GET', '/idle')).toEqual({ status: 200, json: { idle: true, pending: { android: 0, ios: 0 } } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(accountOf(emulator(), 'tok-h')).toBe('hana');

    emulator().setApplyWindow({ minMs: 60_000, maxMs: 60_000 });
    await bind(emulator(), 'tok-late', 'hana', 'ios');
    const timedOut = await control(emulator(), 'GET', '/idle?timeoutMs=50');
    expect(timedOut).toEqual({ status: 200, json: { idle: false, pending: { android: 0, ios: 1 } } });
    expect((await control(emulator(), 'GET', '/idle?timeoutMs=soon')).status).toBe(400);
  });

  it('idle() rejects when the emulator is closed while it waits', async () => {
    const own = await startTpnsEmulator({ env: {}, propagationDelayMs: 60_000 });
    await bind(own, 'tok-c', 'carl');
    const rejected = expect(own.idle()).rejects.toThrow('aborted'); // attached before close(): no unhandled rejection
    await own.close();
    await rejected;
  });
});

describe('request log', () => {
  it('receivedAt is the arrival time on the emulator clock, before injected latency', async () => {
    emulator().injectFault({ kind: 'latency', latencyMs: 300, count: 1 });
    const before = Date.now();
    await bind(emulator(), 'tok-l', 'lena');
    const after = Date.now();
    const [entry] = emulator().requests();
    expect(entry?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(entry?.receivedAt).toBeLessThan(before + 250); // not after the 300 ms latency
    expect(after - (entry?.receivedAt ?? after)).toBeGreaterThanOrEqual(290);
    expect(entry?.time).toBe(entry?.receivedAt);
  });

  it('each entry says what every item asked for (tokens, accounts with their types), for each op and query', async () => {
    await send(emulator(), BATCH, {
      operator_type: 2,
      platform: 'android',
      token_accounts: [{ token: 't1', account_list: [{ account: 'alice' }, { account: 'alice@example.com', account_type: 1005 }] }, { token: 't2', account_list: [{ account: 'bob' }] }],
    });
    await send(emulator(), BATCH, { operator_type: 3, platform: 'android', token_accounts: [{ token: 't1', account_list: [{ account: 'alice' }] }] });
    await send(emulator(), BATCH, { operator_type: 4, platform: 'ios', token_list: ['t3', 't4'] }, { platform: 'ios' });
    await send(emulator(), BATCH, { operator_type: 5, platform: 'android', account_list: [{ account: 'alice' }, { account: '+8613800000000', account_type: 1002 }] });
    await send(emulator(), QUERY, { operator_type: 1, account_list: [{ account: 'bob' }] });
    await send(emulator(), QUERY, { operator_type: 2, token_list: ['t2'] });

    const expected = [
      {
        path: BATCH, platform: 'android', operatorType: 2,
        requested: [{ token: 't1', accounts: [{ account: 'alice', accountType: 0 }, { account: 'alice@example.com', accountType: 1005 }] }, { token: 't2', accounts: [{ account: 'bob', accountType: 0 }] }],
      },
      { path: BATCH, platform: 'android', operatorType: 3, requested: [{ token: 't1', accounts: [{ account: 'alice', accountType: 0 }] }] },
      { path: BATCH, platform: 'ios', operatorType: 4, requested: [{ token: 't3' }, { token: 't4' }] },
      { path: BATCH, platform: 'android', operatorType: 5, requested: [{ account: 'alice', accountType: 0 }, { account: '+8613800000000', accountType: 1002 }] },
      { path: QUERY, platform: 'android', operatorType: 1, requested: [{ account: 'bob', accountType: 0 }] },
      { path: QUERY, platform: 'android', operatorType: 2, requested: [{ token: 't2' }] },
    ];
    const logged = emulator().requests();
    expect(logged).toEqual(expected.map((entry) => expect.objectContaining({ ...entry, receivedAt: expect.any(Number) })));
    const arrivals = logged.map((entry) => entry.receivedAt);
    expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b));
    // The control API serves the same entries.
    expect((await control(emulator(), 'GET', '/requests')).json.requests).toEqual(JSON.parse(JSON.stringify(logged)));
  });

  it('a valid call failed by a fault still says what it asked for; an invalid or unauthenticated one does not', async () => {
    emulator().injectFault({ kind: 'internal', count: 1 });
    await bind(emulator(), 'tok-f', 'fred');
    await send(emulator(), BATCH, bindBody('android', [['tok-f', 'x']])); // account too short
    await send(emulator(), BATCH, bindBody('android', [['tok-f', 'fred']]), { auth: 'none' });
    const [faulted, invalid, unauthenticated] = emulator().requests();
    expect(faulted).toMatchObject({ fault: 'internal', retCode: 1008004, requested: [{ token: 'tok-f', accounts: [{ account: 'fred', accountType: 0 }] }] });
    expect(invalid).toMatchObject({ retCode: 1008007, receivedAt: expect.any(Number) });
    expect(invalid).not.toHaveProperty('requested');
    expect(unauthenticated).toMatchObject({ httpStatus: 401, receivedAt: expect.any(Number) });
    expect(unauthenticated).not.toHaveProperty('requested');
  });
});

describe('configuration', () => {
  const outcomes = async (target: TpnsEmulator, prefix: string): Promise<string> => {
    for (let pair = 0; pair < 8; pair += 1) {
      await bind(target, `${prefix}-${pair}`, 'alice');
      await bind(target, `${prefix}-${pair}`, 'bruno');
    }
    await target.idle();
    return Array.from({ length: 8 }, (_, pair) => (accountOf(target, `${prefix}-${pair}`) === 'alice' ? 'A' : 'B')).join('');
  };

  it('TPNS_EMULATOR_APPLY_WINDOW_MS and _APPLY_SEED switch it on; the seed repeats after reset and matches the option', async () => {
    const fromEnv = await startTpnsEmulator({ env: { TPNS_EMULATOR_APPLY_WINDOW_MS: '0-1000', TPNS_EMULATOR_APPLY_SEED: '18' } });
    const fromOption = await startTpnsEmulator({ env: {}, applyWindow: { minMs: 0, maxMs: 1_000, seed: 18 } });
    try {
      expect(fromEnv.applyWindow()).toEqual({ minMs: 0, maxMs: 1_000, seed: 18 });
      const [first, viaOption] = await Promise.all([outcomes(fromEnv, 'env'), outcomes(fromOption, 'option')]);
      expect(first).toMatch(/A/);
      expect(viaOption).toBe(first);
      fromEnv.reset();
      expect(await outcomes(fromEnv, 'again')).toBe(first);
    } finally {
      await Promise.all([fromEnv.close(), fromOption.close()]);
    }
  });

  it('the option wins over the environment; null turns it off', async () => {
    const off = await startTpnsEmulator({ env: { TPNS_EMULATOR_APPLY_WINDOW_MS: '200-1500' }, applyWindow: null });
    try {
      expect(off.applyWindow()).toBeNull();
      await bind(off, 'tok-n', 'nina');
      expect(accountOf(off, 'tok-n')).toBe('nina');
    } finally {
      await off.close();
    }
  });

  it('environment values are parsed and checked', () => {
    expect(emulatorSettingsFromEnv({}).applyWindow).toBeNull();
    expect(emulatorSettingsFromEnv({ TPNS_EMULATOR_APPLY_WINDOW_MS: '200-1500' }).applyWindow).toEqual({ minMs: 200, maxMs: 1_500 });
    expect(emulatorSettingsFromEnv({ TPNS_EMULATOR_APPLY_WINDOW_MS: ' 0 - 0 ', TPNS_EMULATOR_APPLY_SEED: '-3' }).applyWindow).toEqual({ minMs: 0, maxMs: 0, seed: -3 });
    const message = 'TPNS_EMULATOR_APPLY_WINDOW_MS must be MIN-MAX in ms with MIN <= MAX (e.g. 200-1500)';
    for (const bad of ['1500-200', '800', 'soon', '-5-10', '1.5-3']) {
      expect(() => emulatorSettingsFromEnv({ TPNS_EMULATOR_APPLY_WINDOW_MS: bad })).toThrow(message);
    }
    expect(() => emulatorSettingsFromEnv({ TPNS_EMULATOR_APPLY_WINDOW_MS: '0-10', TPNS_EMULATOR_APPLY_SEED: 'x' })).toThrow('TPNS_EMULATOR_APPLY_SEED must be an integer');
    expect(() => emulatorSettingsFromEnv({ TPNS_EMULATOR_APPLY_SEED: '7' })).toThrow('TPNS_EMULATOR_APPLY_SEED needs TPNS_EMULATOR_APPLY_WINDOW_MS');
  });

  it('a window it cannot draw from is refused by the option and by setApplyWindow', async () => {
    await expect(startTpnsEmulator({ env: {}, applyWindow: { minMs: 10, maxMs: 5 } })).rejects.toThrow('maxMs');
    expect(() => emulator().setApplyWindow({ minMs: -1, maxMs: 5 })).toThrow('minMs');
    expect(emulator().applyWindow()).toBeNull();
  });
});
