/**
 * Ops 2 and 3 send one `token_accounts` entry per token. When a token appears more than once in
 * an input, its items are merged into one entry, so a token is never split across calls (whose
 * order at Tencent is not guaranteed) and never sent twice in one call:
 *
 * - bind (op 2): a token holds one account per `account_type`, so bindings of one token with
 *   different types are merged into one `account_list`; for the same type the last binding in
 *   input order wins, and the earlier one is reported as superseded (its outcome is the entry's).
 * - removeAccounts (op 3): the account lists of one token are united.
 *
 * Every input item keeps its own outcome: it gets the status of the entry it went into.
 */
import type { WireAccount } from './schemas.js';
import type { AccountRef } from './types.js';

export interface TokenEntry {
  token: string;
  account_list: WireAccount[];
  /** Input indexes this entry answers for. */
  indexes: number[];
}

export interface GroupedTokens {
  entries: TokenEntry[];
  /** Input index -> index of the later input item that replaced it (bind only). */
  supersededBy: Map<number, number>;
}

/** `overwrite`: one account per account_type (op 2). `union`: every distinct account (op 3). */
export type MergeRule = 'overwrite' | 'union';

const accountTypeOf = (ref: AccountRef): number => ref.accountType ?? 0;

export function groupByToken(items: readonly { token: string; accounts: AccountRef[] }[], rule: MergeRule): GroupedTokens {
  const slotsByToken = new Map<string, { indexes: number[]; slots: Map<string, { ref: AccountRef; index: number }> }>();
  const supersededBy = new Map<number, number>();

  items.forEach(({ token, accounts }, index) => {
    let group = slotsByToken.get(token);
    if (!group) {
      group = { indexes: [], slots: new Map() };
      slotsByToken.set(token, group);
    }
    group.indexes.push(index);
    for (const ref of accounts) {
      const key = rule === 'overwrite' ? String(accountTypeOf(ref)) : JSON.stringify([accountTypeOf(ref), ref.account]);
      const previous = group.slots.get(key);
      if (previous && previous.index !== index && previous.ref.account !== ref.account) supersededBy.set(previous.index, index);
      group.slots.set(key, { ref, index });
    }
  });

  const entries = [...slotsByToken].map(([token, { indexes, slots }]) => ({
    token,
    account_list: [...slots.values()].map(({ ref }) => ({ account: ref.account, account_type: accountTypeOf(ref) })),
    indexes,
  }));
  return { entries, supersededBy };
}

/** Splits `items` into consecutive chunks of at most `size`, keeping order. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}
