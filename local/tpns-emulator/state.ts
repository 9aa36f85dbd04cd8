/**
 * The binding store of one TPNS app (one platform), with TPNS's rules:
 * - a token holds one account per `account_type` (a new bind overwrites that type's account);
 * - an account holds at most 100 tokens; binding a 101st evicts the oldest.
 *
 * Changes can be made visible later (Tencent's batchoperate only queues the work, ~10 s):
 * each change is queued with the time it becomes visible and applied, in order, on the next
 * read or write after that time. With no delay a change is applied at once.
 */

/** TPNS keeps at most 100 tokens per account. */
export const MAX_TOKENS_PER_ACCOUNT = 100;

export interface AccountKey {
  account: string;
  accountType: number;
}

export type Mutation =
  | { kind: 'bind'; token: string; accounts: AccountKey[] }
  | { kind: 'remove-accounts'; token: string; accounts: AccountKey[] }
  | { kind: 'unbind-token'; token: string }
  | { kind: 'delete-account'; account: AccountKey };

export interface TokenBindings {
  token: string;
  accounts: AccountKey[];
}

export interface AccountBindings extends AccountKey {
  tokens: string[];
}

// A control character cannot appear in an account, so it cannot make two keys collide.
const keyOf = (ref: AccountKey): string => `${ref.accountType}\u0000${ref.account}`;

export class BindingStore {
  /** token -> (account_type -> account). */
  private readonly byToken = new Map<string, Map<number, string>>();
  /** account key -> tokens in binding order (Set keeps insertion order: first = oldest). */
  private readonly byAccount = new Map<string, { ref: AccountKey; tokens: Set<string> }>();
  private readonly pending: { visibleAt: number; mutation: Mutation }[] = [];
  private pendingHead = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Queues a change that becomes visible `delayMs` from now (0: applied immediately). */
  submit(mutation: Mutation, delayMs: number): void {
    if (delayMs <= 0 && this.pendingHead === this.pending.length) {
      this.apply(mutation);
      return;
    }
    this.pending.push({ visibleAt: this.now() + delayMs, mutation });
  }

  /** Changes accepted but not visible yet. */
  get pendingCount(): number {
    this.flush();
    return this.pending.length - this.pendingHead;
  }

  accountsOf(token: string): AccountKey[] {
    this.flush();
    const types = this.byToken.get(token);
    if (!types) return [];
    return [...types].map(([accountType, account]) => ({ account, accountType }));
  }

  tokensOf(ref: AccountKey): string[] {
    this.flush();
    const entry = this.byAccount.get(keyOf(ref));
    return entry ? [...entry.tokens] : [];
  }

  /** Every visible binding, token by token (for the control API). */
  snapshot(): { tokens: TokenBindings[]; accounts: AccountBindings[] } {
    this.flush();
    return {
      tokens: [...this.byToken].map(([token, types]) => ({
        token,
        accounts: [...types].map(([accountType, account]) => ({ account, accountType })),
      })),
      accounts: [...this.byAccount.values()].map(({ ref, tokens }) => ({ ...ref, tokens: [...tokens] })),
    };
  }

  clear(): void {
    this.byToken.clear();
    this.byAccount.clear();
    this.pending.length = 0;
    this.pendingHead = 0;
  }

  private flush(): void {
    const now = this.now();
    while (this.pendingHead < this.pending.length) {
      const next = this.pending[this.pendingHead];
      if (!next || next.visibleAt > now) break;
      this.apply(next.mutation);
      this.pendingHead += 1;
    }
    if (this.pendingHead === this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
    }
  }

  private apply(mutation: Mutation): void {
    switch (mutation.kind) {
      case 'bind':
        for (const ref of mutation.accounts) this.bind(mutation.token, ref);
        return;
      case 'remove-accounts':
        for (const ref of mutation.accounts) this.unlink(mutation.token, ref);
        return;
      case 'unbind-token':
        for (const ref of this.accountsOfNow(mutation.token)) this.unlink(mutation.token, ref);
        return;
      case 'delete-account': {
        const entry = this.byAccount.get(keyOf(mutation.account));
        for (const token of entry ? [...entry.tokens] : []) this.unlink(token, mutation.account);
        return;
      }
    }
  }

  private accountsOfNow(token: string): AccountKey[] {
    const types = this.byToken.get(token);
    return types ? [...types].map(([accountType, account]) => ({ account, accountType })) : [];
  }

  /** Overwrites the token's account of `ref`'s type; the token becomes the account's newest. */
  private bind(token: string, ref: AccountKey): void {
    let types = this.byToken.get(token);
    if (!types) this.byToken.set(token, (types = new Map()));
    const previous = types.get(ref.accountType);
    if (previous !== undefined) this.dropToken(keyOf({ account: previous, accountType: ref.accountType }), token);
    types.set(ref.accountType, ref.account);

    const key = keyOf(ref);
    let entry = this.byAccount.get(key);
    if (!entry) this.byAccount.set(key, (entry = { ref: { ...ref }, tokens: new Set() }));
    entry.tokens.add(token);
    if (entry.tokens.size > MAX_TOKENS_PER_ACCOUNT) {
      const oldest = entry.tokens.values().next().value;
      if (oldest !== undefined) this.unlink(oldest, ref);
    }
  }

  /** Removes one token <-> account link from both indexes, dropping empty entries. */
  private unlink(token: string, ref: AccountKey): void {
    const types = this.byToken.get(token);
    if (types?.get(ref.accountType) === ref.account) {
      types.delete(ref.accountType);
      if (types.size === 0) this.byToken.delete(token);
    }
    this.dropToken(keyOf(ref), token);
  }

  private dropToken(key: string, token: string): void {
    const entry = this.byAccount.get(key);
    if (entry?.tokens.delete(token) && entry.tokens.size === 0) this.byAccount.delete(key);
  }
}
