/** Injected faults, each kind, and how rules match calls. */
import { describe, expect, it } from 'vitest';
import { startTpnsEmulator } from '../../../local/tpns-emulator/index.js';
import type { FaultRule, TpnsEmulator } from '../../../local/tpns-emulator/index.js';
import { BATCH, QUERY, bindBody, send } from './tpns-http.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

const emulator = useTpnsEmulator();

const bind = (token: string, platform: 'android' | 'ios' = 'android') =>
  send(emulator(), BATCH, bindBody(platform, [[token, 'faulty']]), { platform });

describe('each fault kind', () => {
  it('http500: HTTP 500 and the change is not applied', async () => {
    emulator().injectFault({ kind: 'http500', count: 1 });
    const answer = await bind('tok-500');
    expect(answer.status).toBe(500);
    expect(emulator().accountsOf('android', 'tok-500')).toEqual([]);
    expect(emulator().requests()[0]).toMatchObject({ fault: 'http500', httpStatus: 500 });
  });

  it('internal: HTTP 200 with ret_code 1008004 (query: retCode), nothing applied', async () => {
    emulator().injectFault({ kind: 'internal', count: 2 });
    expect((await bind('tok-int')).json).toMatchObject({ ret_code: 1008004 });
    expect((await send(emulator(), QUERY, { operator_type: 2, token_list: ['tok-int'] })).json).toMatchObject({ retCode: 1008004 });
    expect(emulator().accountsOf('android', 'tok-int')).toEqual([]);
  });

  it('rate-limit: 1008028 with a Retry-After header (default 1 s, or as configured)', async () => {
    emulator().injectFault({ kind: 'rate-limit', count: 1 });
    emulator().injectFault({ kind: 'rate-limit', count: 1, retryAfterSeconds: 3 });
    const first = await bind('tok-rl');
    const second = await bind('tok-rl');
    expect(first.json).toMatchObject({ ret_code: 1008028 });
    expect(first.headers.get('retry-after')).toBe('1');
    expect(second.headers.get('retry-after')).toBe('3');
    expect(emulator().accountsOf('android', 'tok-rl')).toEqual([]);
    expect((await bind('tok-rl')).json).toMatchObject({ ret_code: 0 });
  });

  it('drop: the connection is closed without an answer, so fetch fails', async () => {
    emulator().injectFault({ kind: 'drop', count: 1 });
    await expect(bind('tok-drop')).rejects.toThrow();
    expect(emulator().accountsOf('android', 'tok-drop')).toEqual([]);
    expect(emulator().requests()[0]).toMatchObject({ fault: 'drop', httpStatus: 0 });
    expect((await bind('tok-drop')).json).toMatchObject({ ret_code: 0 });
  });

  it('latency: the call is answered normally after the delay', async () => {
    emulator().injectFault({ kind: 'latency', latencyMs: 300, count: 1 });
    const started = performance.now();
    const answer = await bind('tok-slow');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(answer.json).toMatchObject({ ret_code: 0 });
    expect(emulator().accountsOf('android', 'tok-slow')).toEqual([{ account: 'faulty', accountType: 0 }]);
    expect(emulator().requests()[0]).toMatchObject({ fault: 'latency', latencyMs: 300 });
  });

  it('latency and a failure can hit the same call', async () => {
    emulator().injectFault({ kind: 'latency', latencyMs: 50, count: 1 });
    emulator().injectFault({ kind: 'internal', count: 1 });
    expect((await bind('tok-both')).json).toMatchObject({ ret_code: 1008004 });
    expect(emulator().requests()[0]).toMatchObject({ fault: 'internal', latencyMs: 50 });
  });
});

describe('matching', () => {
  it('count: exactly the next N matching calls fail, then the rule is gone', async () => {
    emulator().injectFault({ kind: 'internal', count: 2 });
    const codes = [];
    for (const token of ['c1', 'c2', 'c3', 'c4']) codes.push((await bind(token)).json.ret_code);
    expect(codes).toEqual([1008004, 1008004, 0, 0]);
    expect(emulator().faults()).toEqual([]);
  });

  it('path: only calls to that endpoint', async () => {
    emulator().injectFault({ kind: 'internal', path: 'query' });
    expect((await bind('p1')).json).toMatchObject({ ret_code: 0 });
    expect((await send(emulator(), QUERY, { operator_type: 2, token_list: ['p1'] })).json).toMatchObject({ retCode: 1008004 });
  });

  it('platform: only calls signed by that app', async () => {
    emulator().injectFault({ kind: 'internal', platform: 'ios' });
    expect((await bind('pl-1', 'android')).json).toMatchObject({ ret_code: 0 });
    expect((await bind('pl-1', 'ios')).json).toMatchObject({ ret_code: 1008004 });
  });

  it('a rule without rate or count fails every matching call until cleared', async () => {
    emulator().injectFault({ kind: 'internal' });
    expect((await bind('e1')).json).toMatchObject({ ret_code: 1008004 });
    expect((await bind('e2')).json).toMatchObject({ ret_code: 1008004 });
    emulator().clearFaults();
    expect((await bind('e3')).json).toMatchObject({ ret_code: 0 });
  });

  it('auth failures do not consume faults', async () => {
    emulator().injectFault({ kind: 'internal', count: 1 });
    expect((await send(emulator(), BATCH, bindBody('android', [['x1', 'faulty']]), { auth: 'none' })).status).toBe(401);
    expect((await bind('x1')).json).toMatchObject({ ret_code: 1008004 });
  });
});

describe('rate with a seed', () => {
  async function outcomes(target: TpnsEmulator, rule: FaultRule, calls: number): Promise<number[]> {
    target.injectFault(rule);
    const codes: number[] = [];
    for (let i = 0; i < calls; i += 1) {
      codes.push(Number((await send(target, BATCH, bindBody('android', [[`r-${i}`, 'faulty']]))).json.ret_code));
    }
    return codes;
  }

  it('fails about the given fraction of calls, the same ones for the same seed', async () => {
    const rule: FaultRule = { kind: 'internal', rate: 0.3, seed: 42 };
    const first = await outcomes(emulator(), rule, 200);
    const other = await startTpnsEmulator({ env: {} });
    try {
      expect(await outcomes(other, rule, 200)).toEqual(first);
    } finally {
      await other.close();
    }
    const failed = first.filter((code) => code === 1008004).length;
    expect(failed).toBeGreaterThan(30);
    expect(failed).toBeLessThan(90);
    expect(emulator().counters().byFault).toEqual({ internal: failed });
    // Every call that was not failed was applied.
    expect(emulator().tokensOf('android', 'faulty')).toHaveLength(Math.min(100, 200 - failed));
  });

  it('a different seed picks different calls', async () => {
    const a = await outcomes(emulator(), { kind: 'internal', rate: 0.5, seed: 1 }, 40);
    emulator().reset();
    const b = await outcomes(emulator(), { kind: 'internal', rate: 0.5, seed: 2 }, 40);
    expect(a).not.toEqual(b);
  });
});
