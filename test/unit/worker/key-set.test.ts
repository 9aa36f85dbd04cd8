/**
 * The worker's dedupe of a batch's keys (KeySet, lib/worker/reconcile-batch.ts): the parts
 * (pushTokenKeys, verifyTokenKeys, ...) get each key once, so none of them dedupes again.
 */
import { describe, expect, it } from 'vitest';
import type { KeyMessage, ReconcileKey } from '../../../lib/queue/messages.js';
import { KeySet } from '../../../lib/worker/reconcile-batch.js';

const message = (phase: 'push' | 'verify', correlationId: string, attempt: number, keys: ReconcileKey[]) => ({ v: 2, phase, correlationId, attempt, keys }) satisfies KeyMessage;
const android = { kind: 'token', platform: 'android', token: 'tok-1' } as const;

describe('KeySet', () => {
  it('gives a token key named twice in one message and again in another message once: the highest attempt, every message, the first correlation id', () => {
    const keys = new KeySet();
    const first = message('verify', 'req-1', 0, [android, android]);
    const second = message('verify', 'req-2', 2, [android, { ...android, platform: 'ios' }]);
    for (const key of first.keys) keys.add('verify', key, first, 'm-1');
    for (const key of second.keys) keys.add('verify', key, second, 'm-2');
    expect(keys.get('verify', 'token')).toEqual([
      { key: android, attempt: 2, messageIds: new Set(['m-1', 'm-2']), correlationId: 'req-1' },
      { key: { ...android, platform: 'ios' }, attempt: 2, messageIds: new Set(['m-2']), correlationId: 'req-2' },
    ]);
  });

  it('reads back no key it also pushes (the push queues its own read-back); an erasure without an account type is the one of type 0', () => {
    const keys = new KeySet();
    const verify = message('verify', 'req-1', 1, [android, { kind: 'erasure', account: 'alice' }, { kind: 'erasure', account: 'alice', accountType: 0 }]);
    const push = message('push', 'req-2', 0, [android]);
    for (const key of verify.keys) keys.add('verify', key, verify, 'm-1');
    for (const key of push.keys) keys.add('push', key, push, 'm-2');
    expect(keys.get('verify', 'token')).toEqual([]);
    expect(keys.get('push', 'token').map(({ key }) => key)).toEqual([android]);
    expect(keys.get('verify', 'erasure').map(({ key }) => key)).toEqual([{ kind: 'erasure', account: 'alice' }]);
  });
});
