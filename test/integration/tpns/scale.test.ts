/** Large inputs: split into TPNS-sized calls, and the "done when" under 30% faults. */
import { describe, expect, it } from 'vitest';
import { WORKER_RETRY_BUDGET_MS } from '../../../lib/tpns/constants.js';
import type { FaultKind } from '../../../local/tpns-emulator/index.js';
import { callsTo, clientFor } from './emulator.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

const emulator = useTpnsEmulator();

const bindings = (count: number, account: (i: number) => string) =>
  Array.from({ length: count }, (_, i) => ({ token: `scale-token-${i}`, account: account(i) }));

describe('large inputs', () => {
  it('1 000 binds go out as exactly 50 calls of 20 tokens, all applied, outcomes in input order', async () => {
    const { tpns } = clientFor(emulator());
    const input = bindings(1000, (i) => `user-${i % 20}`); // 50 tokens each: under TPNS's 100 per account
    const result = await tpns.bind('android', input);
    expect(result).toMatchObject({ applied: 1000, failed: [], calls: 50 });
    expect(result.outcomes.map((outcome) => outcome.token)).toEqual(input.map((b) => b.token));
    const calls = callsTo(emulator(), 'batchoperate');
    expect(calls).toHaveLength(50);
    expect(calls.every((call) => call.items === 20)).toBe(true);
    expect(emulator().state('android').tokens).toHaveLength(1000);
  });

  it('op 4 lists follow chunkSize (45 tokens, chunks of 10 -> 5 calls)', async () => {
    const { tpns } = clientFor(emulator(), { chunkSize: 10 });
    const tokens = Array.from({ length: 45 }, (_, i) => `t-${i}`);
    const result = await tpns.unbindTokens('android', tokens);
    expect(result.calls).toBe(5);
    expect(callsTo(emulator(), 'batchoperate').map((call) => call.items)).toEqual([10, 10, 10, 10, 5]);
  });

  it('op 2 never sends more than 20 tokens, whatever chunkSize says', async () => {
    const { tpns } = clientFor(emulator(), { chunkSize: 100 });
    await tpns.bind('android', bindings(45, () => 'someone'));
    expect(callsTo(emulator(), 'batchoperate').map((call) => call.items).sort()).toEqual([20, 20, 5].sort());
  });

  it('chunks are sent with bounded concurrency', async () => {
    emulator().injectFault({ kind: 'latency', latencyMs: 50, path: 'batchoperate' });
    const { tpns, events } = clientFor(emulator(), { concurrency: 2 });
    await tpns.bind('android', bindings(200, (i) => `c-user-${i}`));
    let inFlight = 0;
    let most = 0;
    for (const event of events) {
      if (event.type === 'request') most = Math.max(most, ++inFlight);
      if (event.type === 'response') inFlight -= 1;
    }
    expect(events.filter((event) => event.type === 'request')).toHaveLength(10);
    expect(most).toBe(2);
  });

  it('queries of many accounts are chunked and merged in input order', async () => {
    const { tpns } = clientFor(emulator());
    await tpns.bind('android', bindings(60, (i) => `q-user-${i}`));
    const accounts = Array.from({ length: 60 }, (_, i) => ({ account: `q-user-${59 - i}` }));
    const answer = await tpns.tokensOfAccounts('android', accounts);
    expect(answer.map((entry) => entry.tokens)).toEqual(accounts.map((_, i) => [`scale-token-${59 - i}`]));
    expect(callsTo(emulator(), 'query')).toHaveLength(3);
  });
});

describe('done when: 1 000 overwrite-binds under 30% injected retryable faults', () => {
  it('all end applied in emulator state, and no permanent verdict is ever sent again', async () => {
    const { tpns: setup } = clientFor(emulator());
    await setup.bind('android', bindings(1000, (i) => `previous-owner-${i}`));
    const invalid = ['scale-token-17', 'scale-token-503', 'scale-token-998'];
    emulator().setInvalidTokens(invalid);

    // Four retryable kinds at 8.5% each: a call fails with probability 1 - 0.915^4 ≈ 30%.
    const kinds: FaultKind[] = ['http500', 'internal', 'rate-limit', 'drop'];
    kinds.forEach((kind, seed) => emulator().injectFault({ kind, rate: 0.085, seed: seed + 1, retryAfterSeconds: 0 }));
    const before = emulator().counters().requests; // the setup calls

    const { tpns } = clientFor(emulator(), { retry: { budgetMs: WORKER_RETRY_BUDGET_MS, baseDelayMs: 5, maxDelayMs: 50 } });
    const input = bindings(1000, (i) => `new-owner-${i}`);
    const result = await tpns.bind('android', input);

    const counters = emulator().counters();
    const faults = Object.values(counters.byFault).reduce((sum, n) => sum + n, 0);
    expect(faults).toBeGreaterThan(10); // the faults really fired
    expect(result.calls).toBe(counters.requests - before);
    expect(result.calls).toBe(50 + faults);

    expect(result.applied).toBe(1000 - invalid.length);
    expect(result.failed).toEqual(invalid.map((token) => ({ token, code: '1008006', message: 'invalid token', retryable: false })));
    for (const [i, { token }] of input.entries()) {
      const expected = invalid.includes(token) ? `previous-owner-${i}` : `new-owner-${i}`;
      expect(emulator().accountsOf('android', token)).toEqual([{ account: expected, accountType: 0 }]);
    }

    // A call that got a per-item verdict (a TPNS answer with `result`) is final: its tokens,
    // the permanently invalid ones included, are never sent again.
    const answered = new Set<string>();
    for (const entry of callsTo(emulator(), 'batchoperate').filter((call) => call.seq > before)) {
      const tokens = ((entry.body as { token_accounts?: { token: string }[] }).token_accounts ?? []).map((e) => e.token);
      for (const token of tokens) expect(answered.has(token)).toBe(false);
      if (entry.result) for (const token of tokens) answered.add(token);
    }
    expect(answered.size).toBe(1000);
  });
});
