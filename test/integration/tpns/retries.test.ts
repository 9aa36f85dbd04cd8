/** Retries under faults injected into the real emulator; every retry path ends in emulator state. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TpnsClient } from '../../../lib/tpns/client.js';
import { TpnsUnavailableError } from '../../../lib/tpns/errors.js';
import type { FaultKind } from '../../../local/tpns-emulator/index.js';
import { callsTo, clientFor } from './emulator.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

const emulator = useTpnsEmulator();
/** The emulator still answers a call the client gave up on; let it land before the next test resets. */
const slowCallsLogged = (count: number) => vi.waitFor(() => expect(callsTo(emulator(), 'batchoperate')).toHaveLength(count), { timeout: 2_000 });

const BINDINGS = [
  { token: 'tok-r1', account: 'retry-user' },
  { token: 'tok-r2', account: 'retry-user' },
];

describe('retryable faults are retried until applied', () => {
  it.each<[FaultKind, string]>([
    ['http500', 'HTTP_500'],
    ['internal', '1008004'],
    ['rate-limit', '1008028'],
    ['drop', 'NETWORK'],
  ])('%s twice, then success', async (kind, code) => {
    emulator().injectFault({ kind, count: 2, path: 'batchoperate', retryAfterSeconds: 0 });
    const { tpns, events } = clientFor(emulator());
    const result = await tpns.bind('android', BINDINGS);
    expect(result).toMatchObject({ applied: 2, failed: [], calls: 3 });
    expect(events.filter((event) => event.type === 'retry').map((event) => 'code' in event && event.code)).toEqual([code, code]);
    expect(callsTo(emulator(), 'batchoperate')).toHaveLength(3);
    expect(emulator().tokensOf('android', 'retry-user')).toEqual(['tok-r1', 'tok-r2']);
  });

  it('latency beyond the request timeout is a TIMEOUT, retried', async () => {
    emulator().injectFault({ kind: 'latency', count: 1, latencyMs: 600, path: 'batchoperate' });
    const { tpns, events } = clientFor(emulator(), { requestTimeoutMs: 150 });
    const result = await tpns.bind('android', BINDINGS);
    expect(result).toMatchObject({ applied: 2, failed: [], calls: 2 });
    expect(events.find((event) => event.type === 'retry')).toMatchObject({ code: 'TIMEOUT', attempt: 1 });
    expect(emulator().tokensOf('android', 'retry-user')).toEqual(['tok-r1', 'tok-r2']);
    await slowCallsLogged(2);
  });

  it('1008028 waits at least the Retry-After the server sent', async () => {
    emulator().injectFault({ kind: 'rate-limit', count: 1, retryAfterSeconds: 1 });
    const { tpns, events } = clientFor(emulator());
    await tpns.unbindTokens('android', ['tok-r1']);
    const retry = events.find((event) => event.type === 'retry');
    expect(retry).toMatchObject({ code: '1008028' });
    expect(retry && 'delayMs' in retry && retry.delayMs).toBeGreaterThanOrEqual(1_000);
    expect(callsTo(emulator(), 'batchoperate')).toHaveLength(2);
  });

  it('queries are retried too', async () => {
    await clientFor(emulator()).tpns.bind('android', BINDINGS);
    emulator().injectFault({ kind: 'http500', count: 1, path: 'query' });
    const { tpns } = clientFor(emulator());
    expect(await tpns.tokensOfAccounts('android', [{ account: 'retry-user' }])).toEqual([
      { account: 'retry-user', tokens: ['tok-r1', 'tok-r2'] },
    ]);
    expect(callsTo(emulator(), 'query')).toHaveLength(2);
  });
});

describe('a send window (notAfter): no request starts after it', () => {
  const TOKENS = Array.from({ length: 40 }, (_, index) => ({ token: `tok-w${index}`, account: 'window-user' }));

  it('a call whose window closed before it started sends nothing; its items come back retryable', async () => {
    const { tpns } = clientFor(emulator());
    const result = await tpns.bind('android', BINDINGS, { notAfter: Date.now() - 1 });
    expect(result.applied).toBe(0);
    expect(result.failed).toEqual(BINDINGS.map(({ token }) => expect.objectContaining({ token, code: 'SEND_WINDOW_CLOSED', retryable: true })));
    expect(callsTo(emulator(), 'batchoperate')).toHaveLength(0);
  });

  it('chunks still waiting for a slot when the window closes are not sent; the started ones are', async () => {
    // One call at a time, the first one slow: the second chunk would start after the window.
    emulator().injectFault({ kind: 'latency', count: 1, latencyMs: 400, path: 'batchoperate' });
    const { tpns } = clientFor(emulator(), { concurrency: 1 });
    const result = await tpns.bind('android', TOKENS, { notAfter: Date.now() + 200, retryBudgetMs: 0 });
    expect(result.applied).toBe(20);
    expect(result.failed.map(({ code }) => code)).toEqual(Array.from({ length: 20 }, () => 'SEND_WINDOW_CLOSED'));
    expect(callsTo(emulator(), 'batchoperate')).toHaveLength(1);
    expect(emulator().tokensOf('android', 'window-user')).toHaveLength(20);
  });

  it('no retry is planned past the window', async () => {
    emulator().injectFault({ kind: 'http500', count: 100, path: 'batchoperate' });
    const { tpns } = clientFor(emulator(), { retry: { budgetMs: 10_000, baseDelayMs: 150, maxDelayMs: 150 } });
    const started = Date.now();
    const result = await tpns.bind('android', BINDINGS, { notAfter: started + 250 });
    expect(result.failed.map(({ code }) => code)).toEqual(['HTTP_500', 'HTTP_500']);
    const requests = callsTo(emulator(), 'batchoperate');
    expect(requests.length).toBeGreaterThanOrEqual(2); // the first retry (at most 150 ms) fits
    // Started before the window closed; arriving later is the loopback's (and a loaded machine's)
    // time. Without the window, retries would go on every <=150 ms for the 10 s budget.
    expect(Math.max(...requests.map((entry) => entry.receivedAt))).toBeLessThan(started + 250 + 200);
  });
});

describe('when the budget runs out', () => {
  it.each<[FaultKind, string]>([
    ['http500', 'HTTP_500'],
    ['internal', '1008004'],
    ['drop', 'NETWORK'],
  ])('%s on every call: items come back retryable with code %s, no throw', async (kind, code) => {
    emulator().injectFault({ kind, path: 'batchoperate' });
    const { tpns } = clientFor(emulator(), { retry: { budgetMs: 150, baseDelayMs: 10, maxDelayMs: 40 } });
    const result = await tpns.bind('android', BINDINGS);
    expect(result.applied).toBe(0);
    expect(result.failed).toEqual(BINDINGS.map(({ token }) => ({ token, code, message: expect.any(String), retryable: true })));
    expect(result.outcomes.every((outcome) => outcome.retryable && !outcome.ok)).toBe(true);
    expect(result.calls).toBeGreaterThan(1);
    expect(callsTo(emulator(), 'batchoperate')).toHaveLength(result.calls);
    expect(emulator().tokensOf('android', 'retry-user')).toEqual([]);
  });

  it('a timeout that outlasts the budget comes back as TIMEOUT', async () => {
    emulator().injectFault({ kind: 'latency', latencyMs: 300, path: 'batchoperate' });
    const { tpns } = clientFor(emulator(), { requestTimeoutMs: 100, retry: { budgetMs: 0 } });
    const result = await tpns.deleteAccounts('android', [{ account: 'retry-user' }]);
    expect(result.failed).toEqual([{ account: 'retry-user', code: 'TIMEOUT', message: expect.any(String), retryable: true }]);
    expect(result.calls).toBe(1);
    await slowCallsLogged(1);
  });

  it('retryBudgetMs: 0 makes exactly one attempt', async () => {
    emulator().injectFault({ kind: 'http500', path: 'batchoperate' });
    const { tpns } = clientFor(emulator());
    const result = await tpns.unbindTokens('android', ['tok-r1'], { retryBudgetMs: 0 });
    expect(result.calls).toBe(1);
    expect(callsTo(emulator(), 'batchoperate')).toHaveLength(1);
  });

  it('only the chunks that failed come back retryable; the rest is applied', async () => {
    // First call of three fails for good (budget 0): its 20 items are retryable, the other 25 applied.
    emulator().injectFault({ kind: 'internal', count: 1, path: 'batchoperate' });
    const { tpns } = clientFor(emulator(), { concurrency: 1, retry: { budgetMs: 0 } });
    const bindings = Array.from({ length: 45 }, (_, i) => ({ token: `tok-c${i}`, account: 'chunky' }));
    const result = await tpns.bind('android', bindings);
    expect(result.calls).toBe(3);
    expect(result.failed.map((failure) => failure.token)).toEqual(bindings.slice(0, 20).map((b) => b.token));
    expect(result.failed.every((failure) => failure.retryable && failure.code === '1008004')).toBe(true);
    expect(result.applied).toBe(25);
    expect(emulator().tokensOf('android', 'chunky')).toEqual(bindings.slice(20).map((b) => b.token));
  });

  it('an abort signal stops retrying at once and rejects with its reason', async () => {
    // Retry-After 5 s: the retry waits at least that long (a jittered backoff alone may retry within ms, before the abort).
    emulator().injectFault({ kind: 'http500', path: 'batchoperate', retryAfterSeconds: 5 });
    const { tpns } = clientFor(emulator(), { retry: { budgetMs: 10_000, baseDelayMs: 2_000, maxDelayMs: 2_000 } });
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const call = tpns.unbindTokens('android', ['tok-r1'], { signal: controller.signal });
    await vi.waitFor(() => expect(callsTo(emulator(), 'batchoperate')).toHaveLength(1), { timeout: 5_000 }); // a loaded machine may take over vi.waitFor's 1 s
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(callsTo(emulator(), 'batchoperate')).toHaveLength(1);
  });

  it('a query that cannot be answered throws TpnsUnavailableError (there is no per-item outcome to return)', async () => {
    emulator().injectFault({ kind: 'http500', path: 'query' });
    const { tpns } = clientFor(emulator(), { retry: { budgetMs: 50, baseDelayMs: 5, maxDelayMs: 10 } });
    await expect(tpns.accountsOfTokens('android', ['tok-r1'])).rejects.toBeInstanceOf(TpnsUnavailableError);
  });
});

describe('malformed replies (a misbehaving proxy, not the emulator)', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  /** A real HTTP server that answers every call with `reply`, counting calls. */
  async function serverAnswering(reply: string): Promise<{ url: string; calls: () => number }> {
    let calls = 0;
    const server = createServer((_req, res) => {
      calls += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(reply);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => server.close();
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls };
  }

  it.each([
    ['a result of the wrong length', JSON.stringify({ ret_code: 0, result: ['0'] })],
    ['a result that is not a list', JSON.stringify({ ret_code: 0, result: 'ok' })],
    ['no ret code', JSON.stringify({ result: ['0', '0'] })],
    ['HTML', '<html>502 Bad Gateway</html>'],
  ])('%s is retried, then reported as retryable BAD_RESPONSE', async (_name, reply) => {
    const server = await serverAnswering(reply);
    const tpns = new TpnsClient({
      endpoint: server.url,
      apps: { android: { accessId: '1500000001', secretKey: 'k' } },
      retry: { budgetMs: 100, baseDelayMs: 5, maxDelayMs: 20 },
    });
    const result = await tpns.unbindTokens('android', ['t1', 't2']);
    expect(result.failed.map(({ code, retryable }) => ({ code, retryable }))).toEqual([
      { code: 'BAD_RESPONSE', retryable: true },
      { code: 'BAD_RESPONSE', retryable: true },
    ]);
    expect(result.calls).toBeGreaterThan(1);
    expect(server.calls()).toBe(result.calls);
  });

  it('a query reply of an unexpected shape is retried, then thrown as retryable BAD_RESPONSE (a read-back has no per-item outcome)', async () => {
    const server = await serverAnswering(JSON.stringify({ ret_code: 0, token_accounts: 'none' }));
    const tpns = new TpnsClient({ endpoint: server.url, apps: { android: { accessId: '1500000001', secretKey: 'k' } }, retry: { budgetMs: 100, baseDelayMs: 5, maxDelayMs: 20 } });
    await expect(tpns.accountsOfTokens('android', ['t1'])).rejects.toMatchObject({ code: 'BAD_RESPONSE', retryable: true });
    expect(server.calls()).toBeGreaterThan(1);
  });

  it('a success without a result means every item succeeded; "ok" statuses are success', async () => {
    const plain = await serverAnswering(JSON.stringify({ ret_code: 0, err_msg: 'success' }));
    const tpns = new TpnsClient({ endpoint: plain.url, apps: { ios: { accessId: '1600000001', secretKey: 'k' } } });
    expect(await tpns.unbindTokens('ios', ['t1', 't2'])).toMatchObject({ applied: 2, calls: 1 });
    close?.();
    const legacy = await serverAnswering(JSON.stringify({ retCode: '0', errMsg: '', result: ['ok', 'ok'] }));
    const legacyClient = new TpnsClient({ endpoint: legacy.url, apps: { ios: { accessId: '1600000001', secretKey: 'k' } } });
    expect(await legacyClient.unbindTokens('ios', ['t1', 't2'])).toMatchObject({ applied: 2, calls: 1 });
  });
});
