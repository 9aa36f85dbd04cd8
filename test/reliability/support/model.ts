/**
 * The reference model of TPNS account bindings: a plain in-memory store with TPNS's rules
 * (the binding rules of the shared TPNS page), applied in acceptance order. The soak test
 * compares the emulator's final state with it.
 */
import type { Platform } from '../../../lib/tpns/types.js';

export interface AccountKey {
  account: string;
  accountType: number;
}

/** token -> its accounts (one per account type), per platform. */
export type ModelState = Record<Platform, Map<string, AccountKey[]>>;

export class BindingModel {
  readonly state: ModelState = { android: new Map(), ios: new Map() };

  constructor(private readonly invalidTokens: ReadonlySet<string>) {}

  /** Op 2: the token now holds this account for its type (another account of that type is replaced). */
  bind(platform: Platform, token: string, key: AccountKey): void {
    if (this.invalidTokens.has(token)) return;
    const others = (this.state[platform].get(token) ?? []).filter((held) => held.accountType !== key.accountType);
    this.state[platform].set(token, [...others, key]);
  }

  /** Op 3: the listed account leaves the token. */
  removeAccount(platform: Platform, token: string, key: AccountKey): void {
    const kept = (this.state[platform].get(token) ?? []).filter((held) => !same(held, key));
    this.set(platform, token, kept);
  }

  /** Op 4: the token holds nothing. */
  unbindToken(platform: Platform, token: string): void {
    this.state[platform].delete(token);
  }

  /** Op 5: the account leaves every token. */
  deleteAccount(platform: Platform, key: AccountKey): void {
    for (const token of [...this.state[platform].keys()]) this.removeAccount(platform, token, key);
  }

  /** Tokens per account, to keep the op mix under TPNS's 100-token limit (eviction is not modelled). */
  largestAccount(): number {
    const counts = new Map<string, number>();
    for (const platform of ['android', 'ios'] as const) {
      for (const accounts of this.state[platform].values()) {
        for (const key of accounts) {
          const id = `${platform}/${key.accountType}/${key.account}`;
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
      }
    }
    return Math.max(0, ...counts.values());
  }

  private set(platform: Platform, token: string, accounts: AccountKey[]): void {
    if (accounts.length === 0) this.state[platform].delete(token);
    else this.state[platform].set(token, accounts);
  }
}

const same = (a: AccountKey, b: AccountKey): boolean => a.account === b.account && a.accountType === b.accountType;

/** `token -> sorted "type:account" list`, the shape both sides are compared in. */
export function normalise(entries: Iterable<[string, readonly AccountKey[]]>): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const [token, accounts] of entries) {
    if (accounts.length > 0) result.set(token, accounts.map((key) => `${key.accountType}:${key.account}`).sort());
  }
  return result;
}

/** Tokens whose accounts differ between expected and actual, with both sides. */
export function mismatches(expected: Map<string, string[]>, actual: Map<string, string[]>) {
  const tokens = new Set([...expected.keys(), ...actual.keys()]);
  return [...tokens]
    .filter((token) => JSON.stringify(expected.get(token) ?? []) !== JSON.stringify(actual.get(token) ?? []))
    .map((token) => ({ token, expected: expected.get(token) ?? [], actual: actual.get(token) ?? [] }));
}
