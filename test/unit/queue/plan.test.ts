import { describe, expect, it } from 'vitest';
import { MAX_ITEMS_PER_MESSAGE, workMessageSchema } from '../../../lib/queue/messages.js';
import { accountGroupId, planWork } from '../../../lib/queue/plan.js';
import type { WorkInput } from '../../../lib/queue/plan.js';

const bindings = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ token: `tok-${i}`, account: `user-${i}`, accountType: i % 2 }));
const meta = { correlationId: 'req-1', acceptedAt: '2025-01-01T00:00:00.000Z' };

describe('planWork', () => {
  it('splits into messages of at most 20 items, in input order, each valid against the v1 schema', () => {
    const work = planWork({ kind: 'bind', platform: 'android', items: bindings(45) }, meta);
    expect(work.map((w) => (w.message.kind === 'bind' ? w.message.items.length : 0))).toEqual([20, 20, 5]);
    const tokens = work.flatMap((w) => (w.message.kind === 'bind' ? w.message.items.map((i) => i.token) : []));
    expect(tokens).toEqual(bindings(45).map((b) => b.token));
    for (const { message } of work) expect(workMessageSchema.safeParse(message).success).toBe(true);
    expect(work[0]!.message).toMatchObject({ v: 1, platform: 'android', correlationId: 'req-1', acceptedAt: meta.acceptedAt });
  });

  it('plans 1 000 bindings into exactly 50 messages', () => {
    expect(planWork({ kind: 'bind', platform: 'ios', items: bindings(1000) }, meta)).toHaveLength(1000 / MAX_ITEMS_PER_MESSAGE);
  });

  it('chunks op 4 tokens and op 5 accounts the same way', () => {
    const tokens = planWork({ kind: 'unbind-tokens', platform: 'ios', tokens: bindings(21).map((b) => b.token) }, meta);
    expect(tokens.map((w) => (w.message.kind === 'unbind-tokens' ? w.message.tokens.length : 0))).toEqual([20, 1]);
    const accounts = planWork({ kind: 'delete-accounts', platform: 'ios', accounts: bindings(40) }, meta);
    expect(accounts.map((w) => (w.message.kind === 'delete-accounts' ? w.message.accounts.length : 0))).toEqual([20, 20]);
  });

  it('groups single-token work by token, so work on one device stays in order', () => {
    const bind = planWork({ kind: 'bind', platform: 'android', items: [{ token: 'abc', account: 'alice' }] }, meta);
    const unbind = planWork({ kind: 'unbind-tokens', platform: 'android', tokens: ['abc'] }, { correlationId: 'req-2' });
    const remove = planWork(
      { kind: 'remove-accounts', platform: 'android', items: [{ token: 'abc', accounts: [{ account: 'alice' }] }] },
      { correlationId: 'req-3' },
    );
    expect([bind[0]!.groupId, unbind[0]!.groupId, remove[0]!.groupId]).toEqual(['t:abc', 't:abc', 't:abc']);
  });

  it('groups single-account work by a hash of account type and account (no personal data in the group id)', () => {
    const [work] = planWork({ kind: 'delete-accounts', platform: 'ios', accounts: [{ account: 'alice@example.com', accountType: 1005 }] }, meta);
    expect(work!.groupId).toMatch(/^a:[0-9a-f]{32}$/);
    expect(work!.groupId).not.toContain('alice');
    expect(work!.groupId).toBe(accountGroupId({ account: 'alice@example.com', accountType: 1005 }));
    expect(work!.groupId).not.toBe(accountGroupId({ account: 'alice@example.com', accountType: 0 }));
    expect(accountGroupId({ account: 'bob' })).toBe(accountGroupId({ account: 'bob', accountType: 0 }));
  });

  it('gives each multi-item chunk its own group c:<correlationId>:<n>', () => {
    const work = planWork({ kind: 'bind', platform: 'android', items: bindings(41) }, meta);
    expect(work.map((w) => w.groupId)).toEqual(['c:req-1:0', 'c:req-1:1', 't:tok-40']);
  });

  it('keeps group and deduplication ids within SQS limits (1-128 printable ASCII) for long or odd inputs', () => {
    const longId = 'x'.repeat(300);
    const work = [
      ...planWork({ kind: 'bind', platform: 'android', items: bindings(30) }, { correlationId: longId }),
      ...planWork({ kind: 'bind', platform: 'android', items: bindings(3) }, { correlationId: 'id with spaces ✓' }),
      ...planWork({ kind: 'unbind-tokens', platform: 'android', tokens: ['t'.repeat(200)] }, meta),
    ];
    for (const { groupId, deduplicationId } of work) {
      expect(groupId).toMatch(/^[\x21-\x7E]{1,128}$/);
      expect(deduplicationId).toMatch(/^[\x21-\x7E]{1,128}$/);
    }
    expect(new Set(work.map((w) => w.groupId)).size).toBe(work.length);
  });

  it('deduplication ids are stable for the same request and differ for another correlation id or content', () => {
    const input: WorkInput = { kind: 'bind', platform: 'android', items: bindings(25) };
    const ids = (w: ReturnType<typeof planWork>) => w.map((x) => x.deduplicationId);
    const first = ids(planWork(input, meta));
    expect(ids(planWork(input, { ...meta, acceptedAt: '2030-01-01T00:00:00.000Z' }))).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
    const other = ids(planWork(input, { ...meta, correlationId: 'req-2' }));
    expect(other.some((id) => first.includes(id))).toBe(false);
    const otherPlatform = ids(planWork({ ...input, platform: 'ios' }, meta));
    expect(otherPlatform.some((id) => first.includes(id))).toBe(false);
    const otherKind = ids(planWork({ kind: 'unbind-tokens', platform: 'android', tokens: bindings(25).map((b) => b.token) }, meta));
    expect(otherKind.some((id) => first.includes(id))).toBe(false);
  });

  it('stamps acceptedAt with the current time when not given', () => {
    const [work] = planWork({ kind: 'unbind-tokens', platform: 'ios', tokens: ['abc'] }, { correlationId: 'r' });
    expect(Number.isNaN(Date.parse(work!.message.acceptedAt))).toBe(false);
  });
});
