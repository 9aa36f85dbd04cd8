import { describe, expect, it } from 'vitest';
import { MAX_DELAY_SECONDS, MAX_KEYS_PER_MESSAGE, keyMessageSchema, keyMessages } from '../../../lib/queue/messages.js';
import type { ReconcileKey } from '../../../lib/queue/messages.js';

const tokens = (n: number): ReconcileKey[] => Array.from({ length: n }, (_, i) => ({ kind: 'token', platform: i % 2 ? 'ios' : 'android', token: `tok-${i}` }));

describe('keyMessages', () => {
  it('splits keys into v2 messages of at most 20, in input order, each valid against the schema', () => {
    const messages = keyMessages(tokens(45), { phase: 'push', correlationId: 'req-1' });
    expect(messages.map(({ message }) => (message.phase === 'record' ? 0 : message.keys.length))).toEqual([20, 20, 5]);
    expect(messages.flatMap(({ message }) => (message.phase === 'record' ? [] : message.keys))).toEqual(tokens(45));
    for (const { message } of messages) {
      expect(keyMessageSchema.safeParse(message).success).toBe(true);
      expect(message).toMatchObject({ v: 2, phase: 'push', correlationId: 'req-1', attempt: 0 });
    }
    expect(MAX_KEYS_PER_MESSAGE).toBe(20);
  });

  it('plans 1 000 keys into exactly 50 messages, and none for no keys', () => {
    expect(keyMessages(tokens(1000), { phase: 'verify', correlationId: 'r' })).toHaveLength(50);
    expect(keyMessages([], { phase: 'verify', correlationId: 'r' })).toEqual([]);
  });

  it('carries the attempt, and a delay rounded up to whole seconds within SQS\'s 0-900', () => {
    const [delayed] = keyMessages(tokens(1), { phase: 'verify', correlationId: 'r', attempt: 4, delaySeconds: 1.2 });
    expect(delayed).toMatchObject({ message: { attempt: 4 }, delaySeconds: 2 });
    expect(keyMessages(tokens(1), { phase: 'push', correlationId: 'r', delaySeconds: 10_000 })[0]!.delaySeconds).toBe(MAX_DELAY_SECONDS);
    expect(keyMessages(tokens(1), { phase: 'push', correlationId: 'r', delaySeconds: 0 })[0]).not.toHaveProperty('delaySeconds');
  });

  it('carries erasure keys with the account in plaintext (the only place it travels)', () => {
    const [message] = keyMessages([{ kind: 'erasure', account: 'alice@example.com', accountType: 3 }], { phase: 'push', correlationId: 'r' });
    expect(keyMessageSchema.parse(message!.message)).toMatchObject({ keys: [{ kind: 'erasure', account: 'alice@example.com', accountType: 3 }] });
  });
});

describe('keyMessageSchema', () => {
  it('refuses v1, unknown phases, empty or oversized key lists, and keys TPNS would reject', () => {
    const ok = { v: 2, phase: 'push', correlationId: 'r', attempt: 0, keys: tokens(1) };
    expect(keyMessageSchema.safeParse(ok).success).toBe(true);
    for (const bad of [
      { ...ok, v: 1 },
      { ...ok, phase: 'apply' },
      { ...ok, keys: [] },
      { ...ok, keys: tokens(21) },
      { ...ok, keys: [{ kind: 'token', platform: 'android', token: 'x'.repeat(65) }] },
      { ...ok, keys: [{ kind: 'erasure', account: 'a' }] },
      { ...ok, attempt: 1.5 },
      { v: 2, phase: 'record', correlationId: 'r', attempt: 0, signIns: [] },
    ]) {
      expect(keyMessageSchema.safeParse(bad).success).toBe(false);
    }
  });
});
