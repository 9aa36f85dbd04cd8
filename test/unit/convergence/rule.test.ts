/** THE convergence rule (lib/convergence/rule.ts): pure, so tested on records built by hand and on generated histories. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { erasureAllowed, erasureExtras, erasureOps, heldAccounts, tokenIntent, tokenMatches, tokenOps } from '../../../lib/convergence/rule.js';
import type { TokenIntent, TombstoneLookup, TpnsOp } from '../../../lib/convergence/rule.js';
import type { TokenRecord, Tombstone } from '../../../lib/ledger/records.js';
import type { AccountRef, Platform } from '../../../lib/tpns/types.js';

const TOKEN = 'tok-1';

interface Entry {
  account: string;
  accountType?: number;
  v: number;
}

function record(entries: Entry[], options: { clearV?: number; token?: string; platform?: Platform } = {}): TokenRecord {
  const all = entries.map(({ account, accountType = 0, v }) => ({ account, accountType, v, since: new Date(v).toISOString() }));
  const v = Math.max(0, options.clearV ?? 0, ...all.map((entry) => entry.v));
  return {
    platform: options.platform ?? 'android',
    token: options.token ?? TOKEN,
    v,
    ...(options.clearV === undefined ? {} : { clearV: options.clearV }),
    entries: all,
    state: 'pending',
    stateV: v,
    stateAt: '',
    attempts: 0,
  };
}

const tombstone = (v: number): Tombstone => ({ digest: `d${v}`, v, requestedAt: '', apps: {}, expiresAt: 0 });
/** Tombstones by "account/type". */
const lookup = (deleted: Record<string, number> = {}): TombstoneLookup => (ref) => {
  const v = deleted[`${ref.account}/${ref.accountType ?? 0}`];
  return v === undefined ? undefined : tombstone(v);
};
const bound = (intent: TokenIntent) => Object.fromEntries(intent.bound);

describe('tokenIntent', () => {
  it('binds the signed-in account at its account type', () => {
    const intent = tokenIntent(record([{ account: 'alice', v: 10 }]), lookup());
    expect(intent).toEqual({ bound: new Map([[0, 'alice']]), absent: [], empty: false, exclusive: false, v: 10 });
  });

  it('after a sign-out with nothing newer: the token must hold nothing', () => {
    const intent = tokenIntent(record([{ account: 'alice', v: 10 }], { clearV: 20 }), lookup());
    expect(intent).toMatchObject({ bound: new Map(), absent: [], empty: true, v: 20 });
  });

  it('a sign-in after the sign-out binds again; entries older than the sign-out stay void', () => {
    const intent = tokenIntent(record([{ account: 'alice', v: 10 }, { account: 'bob', accountType: 5, v: 30 }], { clearV: 20 }), lookup());
    expect(intent).toMatchObject({ empty: false, absent: [] });
    expect(bound(intent)).toEqual({ 5: 'bob' });
  });

  it('keeps several account types side by side, and a sign-out clears them all', () => {
    const entries = [{ account: 'alice', v: 10 }, { account: 'alice-work', accountType: 3, v: 11 }, { account: 'carol', accountType: 7, v: 12 }];
    expect(bound(tokenIntent(record(entries), lookup()))).toEqual({ 0: 'alice', 3: 'alice-work', 7: 'carol' });
    expect(tokenIntent(record(entries, { clearV: 13 }), lookup())).toMatchObject({ empty: true, bound: new Map() });
  });

  it('a deletion newer than the sign-in voids it: the account must be absent, nothing else is required', () => {
    const intent = tokenIntent(record([{ account: 'alice', v: 10 }, { account: 'bob', accountType: 2, v: 11 }]), lookup({ 'alice/0': 15 }));
    expect(intent).toMatchObject({ empty: false, absent: [{ account: 'alice' }] });
    expect(bound(intent)).toEqual({ 2: 'bob' });
  });

  it('a sign-in accepted after the deletion binds the account again', () => {
    const intent = tokenIntent(record([{ account: 'alice', v: 20 }]), lookup({ 'alice/0': 15 }));
    expect(intent).toMatchObject({ absent: [], empty: false });
    expect(bound(intent)).toEqual({ 0: 'alice' });
  });

  it('a deletion is of one (account, account type): the same account at another type stays bound', () => {
    const intent = tokenIntent(record([{ account: 'alice', v: 10 }, { account: 'alice', accountType: 4, v: 11 }]), lookup({ 'alice/4': 15 }));
    expect(bound(intent)).toEqual({ 0: 'alice' });
    expect(intent.absent).toEqual([{ account: 'alice', accountType: 4 }]);
  });

  it('a deletion of an entry a sign-out already voided asks for nothing more than the sign-out', () => {
    const intent = tokenIntent(record([{ account: 'alice', v: 10 }], { clearV: 12 }), lookup({ 'alice/0': 15 }));
    expect(intent).toMatchObject({ empty: true, absent: [] });
  });
});

describe('tokenMatches', () => {
  const intentOf = (entries: Entry[], options: { clearV?: number } = {}, deleted: Record<string, number> = {}) => tokenIntent(record(entries, options), lookup(deleted));

  it('a bound intent: the account at its type; accounts of types the ledger never recorded are not ours', () => {
    const intent = intentOf([{ account: 'alice', v: 1 }]);
    expect(tokenMatches(intent, [{ account: 'alice', accountType: 0 }])).toBe(true);
    expect(tokenMatches(intent, [{ account: 'alice' }, { account: 'sdk-user', accountType: 9 }])).toBe(true);
    expect(tokenMatches(intent, [])).toBe(false);
    expect(tokenMatches(intent, [{ account: 'bob', accountType: 0 }])).toBe(false);
    expect(tokenMatches(intent, [{ account: 'alice', accountType: 1 }])).toBe(false);
  });

  it('an empty intent: nothing at all, not even accounts the ledger never saw', () => {
    const intent = intentOf([{ account: 'alice', v: 1 }], { clearV: 2 });
    expect(tokenMatches(intent, [])).toBe(true);
    expect(tokenMatches(intent, [{ account: 'sdk-user', accountType: 9 }])).toBe(false);
  });

  it('an erased account must not be held at its type; another account there is fine', () => {
    const intent = intentOf([{ account: 'alice', v: 1 }], {}, { 'alice/0': 2 });
    expect(tokenMatches(intent, [])).toBe(true);
    expect(tokenMatches(intent, [{ account: 'alice', accountType: 0 }])).toBe(false);
    expect(tokenMatches(intent, [{ account: 'alice', accountType: 1 }])).toBe(true);
    expect(tokenMatches(intent, [{ account: 'bob', accountType: 0 }])).toBe(true);
  });
});

describe('tokenOps', () => {
  const intentOf = (entries: Entry[], options: { clearV?: number } = {}, deleted: Record<string, number> = {}) => tokenIntent(record(entries, options), lookup(deleted));

  it('without a read-back: everything the intent says (idempotent at TPNS)', () => {
    expect(tokenOps(TOKEN, intentOf([{ account: 'alice', v: 1 }, { account: 'work', accountType: 3, v: 2 }]))).toEqual([
      { kind: 'bind', token: TOKEN, account: { account: 'alice' } },
      { kind: 'bind', token: TOKEN, account: { account: 'work', accountType: 3 } },
    ]);
    expect(tokenOps(TOKEN, intentOf([{ account: 'alice', v: 1 }], { clearV: 2 }))).toEqual([{ kind: 'unbind', token: TOKEN }]);
    expect(tokenOps(TOKEN, intentOf([{ account: 'alice', v: 1 }], {}, { 'alice/0': 2 }))).toEqual([
      { kind: 'remove', token: TOKEN, accounts: [{ account: 'alice' }] },
    ]);
  });

  it('an op 2 at the same account type replaces an erased account: no op 3 for it', () => {
    // alice (type 0) erased, then bob signed in at type 0: its bind overwrites alice.
    const intent = tokenIntent(record([{ account: 'bob', v: 5 }]), lookup({ 'alice/0': 3 }));
    expect(tokenOps(TOKEN, intent)).toEqual([{ kind: 'bind', token: TOKEN, account: { account: 'bob' } }]);
  });

  it('with a read-back: only what differs', () => {
    const intent = intentOf([{ account: 'alice', v: 1 }, { account: 'work', accountType: 3, v: 2 }]);
    expect(tokenOps(TOKEN, intent, [{ account: 'alice', accountType: 0 }, { account: 'work', accountType: 3 }])).toEqual([]);
    expect(tokenOps(TOKEN, intent, [{ account: 'alice', accountType: 0 }, { account: 'old', accountType: 3 }])).toEqual([
      { kind: 'bind', token: TOKEN, account: { account: 'work', accountType: 3 } },
    ]);
    const empty = intentOf([{ account: 'alice', v: 1 }], { clearV: 2 });
    expect(tokenOps(TOKEN, empty, [])).toEqual([]);
    expect(tokenOps(TOKEN, empty, [{ account: 'sdk', accountType: 8 }])).toEqual([{ kind: 'unbind', token: TOKEN }]);
    const erased = intentOf([{ account: 'alice', v: 1 }], {}, { 'alice/0': 2 });
    expect(tokenOps(TOKEN, erased, [{ account: 'bob', accountType: 0 }])).toEqual([]);
    expect(tokenOps(TOKEN, erased, [{ account: 'alice', accountType: 0 }])).toEqual([{ kind: 'remove', token: TOKEN, accounts: [{ account: 'alice' }] }]);
  });

  it('heldAccounts reads a missing read-back as no account', () => {
    expect(heldAccounts(undefined)).toEqual([]);
    expect(heldAccounts({ token: TOKEN, accounts: [{ account: 'a' }] })).toEqual([{ account: 'a' }]);
  });
});

describe('erasure rules', () => {
  const alice: AccountRef = { account: 'alice' };
  const deletion = tombstone(100);

  it('erasureAllowed: only tokens of this app where a sign-in of the account was accepted after the deletion', () => {
    const records = [
      record([{ account: 'alice', v: 150 }], { token: 'after' }),
      record([{ account: 'alice', v: 50 }], { token: 'before' }),
      record([{ account: 'alice', v: 150 }], { token: 'after-then-out', clearV: 160 }),
      record([{ account: 'alice', v: 150 }], { token: 'other-app', platform: 'ios' }),
      record([{ account: 'alice', accountType: 2, v: 150 }], { token: 'other-type' }),
      record([{ account: 'bob', v: 150 }], { token: 'someone-else' }),
    ];
    expect([...erasureAllowed(alice, deletion, records, 'android')]).toEqual(['after']);
    expect([...erasureAllowed(alice, deletion, records, 'ios')]).toEqual(['other-app']);
    expect([...erasureAllowed({ account: 'alice', accountType: 2 }, deletion, records, 'android')]).toEqual(['other-type']);
  });

  it('erasureOps: op 5 when no newer sign-in must survive; nothing once a read-back finds it gone', () => {
    expect(erasureOps(alice, new Set())).toEqual([{ kind: 'delete', account: alice }]);
    expect(erasureOps(alice, new Set(), ['t1'])).toEqual([{ kind: 'delete', account: alice }]);
    expect(erasureOps(alice, new Set(), [])).toEqual([]);
  });

  it('erasureOps: op 3 on each token holding it against the intent when a newer sign-in must survive', () => {
    const allowed = new Set(['keep']);
    expect(erasureOps(alice, allowed, ['keep', 'stale-1', 'stale-2'])).toEqual([
      { kind: 'remove', token: 'stale-1', accounts: [alice] },
      { kind: 'remove', token: 'stale-2', accounts: [alice] },
    ]);
    expect(erasureOps(alice, allowed, ['keep'])).toEqual([]);
    expect(erasureOps(alice, allowed)).toEqual([]);
    expect(erasureExtras(['keep', 'x'], allowed)).toEqual(['x']);
  });
});

// ---- generated histories -------------------------------------------------------------------

type Op = { kind: 'signIn'; account: string; accountType: number } | { kind: 'signOut' } | { kind: 'delete'; account: string; accountType: number };

const accountArb = fc.constantFrom('alice', 'bob', 'carol');
const typeArb = fc.constantFrom(0, 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('signIn' as const), account: accountArb, accountType: typeArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('signOut' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), account: accountArb, accountType: typeArb }) },
);
/** What TPNS may hold before: any accounts, ours or the SDK's, at types 0-2. */
const heldArb = fc.uniqueArray(fc.record({ account: fc.constantFrom('alice', 'bob', 'carol', 'sdk-user'), accountType: fc.constantFrom(0, 1, 2) }), {
  selector: (ref) => ref.accountType,
  maxLength: 3,
});

/** The ledger after the operations, as DynamoLedger stores them: the latest entry per type, the last sign-out, the last deletion per account. */
function applyAsRecords(ops: readonly Op[]): { record: TokenRecord; lookup: TombstoneLookup } {
  const entries = new Map<number, Entry>();
  const deleted: Record<string, number> = {};
  let clearV: number | undefined;
  ops.forEach((op, index) => {
    const v = index + 1;
    if (op.kind === 'signIn') entries.set(op.accountType, { account: op.account, accountType: op.accountType, v });
    if (op.kind === 'signOut') clearV = v;
    if (op.kind === 'delete') deleted[`${op.account}/${op.accountType}`] = v;
  });
  return { record: record([...entries.values()], clearV === undefined ? {} : { clearV }), lookup: lookup(deleted) };
}

/** The same history replayed one operation at a time: what "the last accepted operation implies". */
function replay(ops: readonly Op[]): { bound: Record<number, string>; empty: boolean } {
  let bound: Record<number, string> = {};
  let empty = false;
  for (const op of ops) {
    if (op.kind === 'signIn') {
      bound[op.accountType] = op.account;
      empty = false;
    }
    if (op.kind === 'signOut') {
      bound = {};
      empty = true;
    }
    if (op.kind === 'delete' && bound[op.accountType] === op.account) delete bound[op.accountType];
  }
  return { bound, empty };
}

/** TPNS applying the ops: one account per type per token (op 2 overwrites). */
function tpnsAfter(held: readonly AccountRef[], ops: readonly TpnsOp[]): AccountRef[] {
  const state = new Map(held.map((ref) => [ref.accountType ?? 0, ref.account]));
  for (const op of ops) {
    if (op.kind === 'bind') state.set(op.account.accountType ?? 0, op.account.account);
    if (op.kind === 'unbind') state.clear();
    if (op.kind === 'remove') for (const ref of op.accounts) if (state.get(ref.accountType ?? 0) === ref.account) state.delete(ref.accountType ?? 0);
    if (op.kind === 'delete') for (const [type, account] of state) if (account === op.account.account && type === (op.account.accountType ?? 0)) state.delete(type);
  }
  return [...state].map(([accountType, account]) => ({ account, accountType }));
}

describe('the rule on any history of sign-ins, sign-outs and deletions of one token', () => {
  const history = fc.array(opArb, { minLength: 1, maxLength: 12 });

  it('the intent is what replaying the history one operation at a time leaves', () => {
    fc.assert(
      fc.property(history, (ops) => {
        const { record: r, lookup: l } = applyAsRecords(ops);
        const intent = tokenIntent(r, l);
        const expected = replay(ops);
        expect(bound(intent)).toEqual(expected.bound);
        expect(intent.empty).toBe(expected.empty);
      }),
    );
  });

  it('a first push (no read-back) makes TPNS match the intent, whatever TPNS held; after a sign-out, one read-back repair more at most', () => {
    fc.assert(
      fc.property(history, heldArb, (ops, held) => {
        const { record: r, lookup: l } = applyAsRecords(ops);
        const intent = tokenIntent(r, l);
        const pushed = tpnsAfter(held, tokenOps(TOKEN, intent));
        // Without a read-back the push cannot know what else a signed-out token holds: the read-back removes it.
        if (!intent.exclusive) return tokenMatches(intent, pushed);
        return tokenMatches(intent, tpnsAfter(pushed, tokenOps(TOKEN, intent, pushed)));
      }),
    );
  });

  it('after a sign-out, a stale binding TPNS applied late on another account type is not a match, and the repair removes it', () => {
    const intent = tokenIntent(record([{ account: 'alice', v: 10 }, { account: 'bob', accountType: 1, v: 30 }], { clearV: 20 }), lookup());
    const held = [
      { account: 'alice', accountType: 0 },
      { account: 'bob', accountType: 1 },
    ];
    expect(tokenMatches(intent, held)).toBe(false);
    expect(tokenOps(TOKEN, intent, held)).toEqual([{ kind: 'remove', token: TOKEN, accounts: [{ account: 'alice' }] }]);
  });

  it('without a sign-out, an account type the ledger never recorded is not ours and is left alone', () => {
    const intent = tokenIntent(record([{ account: 'bob', accountType: 1, v: 30 }]), lookup());
    const held = [
      { account: 'sdu-made', accountType: 0 },
      { account: 'bob', accountType: 1 },
    ];
    expect(tokenMatches(intent, held)).toBe(true);
  });

  it('a repair against a read-back makes TPNS match, sends nothing when it already does, and leaves nothing more to do', () => {
    fc.assert(
      fc.property(history, heldArb, (ops, held) => {
        const { record: r, lookup: l } = applyAsRecords(ops);
        const intent = tokenIntent(r, l);
        const repair = tokenOps(TOKEN, intent, held);
        expect(repair.length === 0).toBe(tokenMatches(intent, held));
        const after = tpnsAfter(held, repair);
        expect(tokenMatches(intent, after)).toBe(true);
        expect(tokenOps(TOKEN, intent, after)).toEqual([]);
      }),
    );
  });

  it('never binds an account whose deletion is newer than its sign-in', () => {
    fc.assert(
      fc.property(history, heldArb, (ops, held) => {
        const { record: r, lookup: l } = applyAsRecords(ops);
        const intent = tokenIntent(r, l);
        const erased = r.entries.filter((entry) => (l({ account: entry.account, accountType: entry.accountType })?.v ?? 0) > entry.v);
        const binds = [...tokenOps(TOKEN, intent), ...tokenOps(TOKEN, intent, held)].filter((op) => op.kind === 'bind');
        return binds.every((op) => !erased.some((entry) => entry.account === op.account.account && entry.accountType === (op.account.accountType ?? 0)));
      }),
    );
  });
});
