/**
 * THE convergence rule: what TPNS must hold for a key, given the ledger, and what to send to make
 * it so. Pure functions, no I/O: everything that pushes (a request's direct attempt, the worker's
 * push, the worker's repair after a read-back) goes through these, so there is one definition of
 * "in step" (product spec, G1).
 *
 * Token keys: the token's valid entries (newer than its last sign-out and than the tombstone of
 * their account) must be bound at their account types; accounts voided by a deletion must be
 * absent. Once a sign-out was recorded, the token is the ledger's whole: it must hold exactly its
 * valid entries (nothing at all when none is newer than the sign-out), so a stale binding that
 * TPNS applies late, on any account type, is removed. Without a sign-out, account types the
 * ledger has never recorded are not ours (the mobile SDK may bind them) and are left alone.
 *
 * Erasure keys: the deleted account must be on no token of the app, except tokens where a sign-in
 * of it was accepted after the deletion.
 */
import type { AccountRef, Platform, TokenAccountsResult } from '../tpns/types.js';
import type { IntentEntry, Tombstone, TokenRecord } from '../ledger/records.js';

/** The TPNS operations the rule asks for; their wire calls are in operations.ts. */
export type TpnsOp =
  /** op 2: overwrite the token's account of this account type. */
  | { kind: 'bind'; token: string; account: AccountRef }
  /** op 3: remove these accounts from the token. */
  | { kind: 'remove'; token: string; accounts: AccountRef[] }
  /** op 4: remove every account from the token. */
  | { kind: 'unbind'; token: string }
  /** op 5: remove the account from every token of the app. */
  | { kind: 'delete'; account: AccountRef };

export type OpKind = TpnsOp['kind'];

/** Tombstones by the digest of their account (see Ledger.digestOf). */
export type TombstoneLookup = (ref: AccountRef) => Tombstone | undefined;

export interface TokenIntent {
  /** Account by account type: what must be bound. */
  bound: Map<number, string>;
  /** Accounts (with their type) that a deletion voided: they must not be on the token. */
  absent: AccountRef[];
  /** A sign-out is the last word on this token: it must hold nothing at all. */
  empty: boolean;
  /** A sign-out was recorded: the token must hold exactly `bound`, no other account type. */
  exclusive: boolean;
  /** The record version this intent was computed from. */
  v: number;
}

const refOf = ({ account, accountType }: Pick<IntentEntry, 'account' | 'accountType'>): AccountRef =>
  accountType === 0 ? { account } : { account, accountType };
const typeOf = (ref: AccountRef): number => ref.accountType ?? 0;

/** The intent of a token record, with deletions applied. */
export function tokenIntent(record: TokenRecord, tombstoneOf: TombstoneLookup): TokenIntent {
  const bound = new Map<number, string>();
  const absent: AccountRef[] = [];
  let newestEntry = -Infinity;
  for (const entry of record.entries) {
    newestEntry = Math.max(newestEntry, entry.v);
    if (record.clearV !== undefined && entry.v < record.clearV) continue;
    const tombstone = tombstoneOf(refOf(entry));
    if (tombstone && tombstone.v > entry.v) absent.push(refOf(entry));
    else bound.set(entry.accountType, entry.account);
  }
  const empty = record.clearV !== undefined && record.clearV > newestEntry;
  return { bound, absent, empty, exclusive: record.clearV !== undefined, v: record.v };
}

/** What TPNS reports for a token, by account type. */
const actualByType = (actual: readonly AccountRef[]): Map<number, string> =>
  new Map(actual.map((ref) => [typeOf(ref), ref.account]));

/** Does TPNS hold what the intent says? */
export function tokenMatches(intent: TokenIntent, actual: readonly AccountRef[]): boolean {
  if (intent.empty) return actual.length === 0;
  const held = actualByType(actual);
  for (const [type, account] of intent.bound) if (held.get(type) !== account) return false;
  if (intent.exclusive && actual.some((ref) => !intent.bound.has(typeOf(ref)))) return false;
  return !intent.absent.some((ref) => held.get(typeOf(ref)) === ref.account);
}

/**
 * The calls that make TPNS hold the intent. With `actual` (a read-back) only what differs;
 * without (a first push) everything the intent says, which is idempotent at TPNS.
 */
export function tokenOps(token: string, intent: TokenIntent, actual?: readonly AccountRef[]): TpnsOp[] {
  if (intent.empty) return actual && actual.length === 0 ? [] : [{ kind: 'unbind', token }];
  const held = actual ? actualByType(actual) : undefined;
  const ops: TpnsOp[] = [];
  for (const [accountType, account] of intent.bound) {
    if (held?.get(accountType) !== account) ops.push({ kind: 'bind', token, account: refOf({ account, accountType }) });
  }
  // An op 2 on the same account type already replaces a voided account.
  const remove = intent.absent.filter(
    (ref) => !intent.bound.has(typeOf(ref)) && (held === undefined || held.get(typeOf(ref)) === ref.account),
  );
  // After a sign-out, whatever the read-back shows on an account type the ledger does not bind goes.
  if (intent.exclusive && actual) {
    for (const ref of actual) {
      const stray = !intent.bound.has(typeOf(ref)) && !remove.some((other) => other.account === ref.account && typeOf(other) === typeOf(ref));
      if (stray) remove.push(typeOf(ref) === 0 ? { account: ref.account } : { account: ref.account, accountType: typeOf(ref) });
    }
  }
  if (remove.length > 0) ops.push({ kind: 'remove', token, accounts: remove });
  return ops;
}

/** A token's read-back in the rule's terms. */
export const heldAccounts = (result: TokenAccountsResult | undefined): AccountRef[] => result?.accounts ?? [];

/** Tokens of an erased account that may keep it: a sign-in of it was accepted after the deletion. */
export function erasureAllowed(ref: AccountRef, tombstone: Tombstone, records: readonly TokenRecord[], platform: Platform): Set<string> {
  const allowed = new Set<string>();
  for (const record of records) {
    if (record.platform !== platform) continue;
    const intent = tokenIntent(record, (other) => (other.account === ref.account && typeOf(other) === typeOf(ref) ? tombstone : undefined));
    if (intent.bound.get(typeOf(ref)) === ref.account) allowed.add(record.token);
  }
  return allowed;
}

/** Tokens that still hold an erased account against the ledger's intent. */
export const erasureExtras = (held: readonly string[], allowed: ReadonlySet<string>): string[] =>
  held.filter((token) => !allowed.has(token));

/**
 * The calls that erase the account on one app: op 5 when no newer sign-in must survive it,
 * else op 3 on each token that holds it against the intent (needs a read-back).
 */
export function erasureOps(ref: AccountRef, allowed: ReadonlySet<string>, held?: readonly string[]): TpnsOp[] {
  if (allowed.size === 0) return held && held.length === 0 ? [] : [{ kind: 'delete', account: ref }];
  return erasureExtras(held ?? [], allowed).map((token) => ({ kind: 'remove', token, accounts: [ref] }));
}
