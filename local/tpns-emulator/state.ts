/**
 * The binding store of one TPNS app (one platform), with TPNS's rules:
 * - a token holds one account per `account_type` (a new bind overwrites that type's account);
 * - an account holds at most 100 tokens; binding a 101st evicts the oldest.
 *
 * Changes can be made visible later (Tencent's batchoperate only queues the work, ~10 s, and
 * promises no order): each change is queued with the time it becomes visible (`visibleAt`) and
 * applied on the next read or write after that time. The queue is kept sorted by `visibleAt`, so
 * changes are applied in `visibleAt` order, earlier submits first among equal times. How a
 * change gets its `visibleAt` is its `ApplyOrder`:
 * - `in-order`: its own delay, but never before a change queued earlier, so changes land in the
 *   order they were accepted (the default, and the behaviour before reordering existed);
 * - `independent`: its own delay only, so a later change on the same token can land first.
 * A change due now with nothing due before it is applied at once.
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
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

/** See the file comment: whether a change may overtake changes queued before it. */
export type ApplyOrder = 'in-order' | 'independent';

interface PendingChange {
  visibleAt: number;
  mutation: Mutation;
}

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
  /** Sorted by visibleAt (stable: equal times keep submit order); entries before pendingHead are applied. */
  private readonly pending: PendingChange[] = [];
  private pendingHead = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Queues a change that becomes visible `delayMs` from now (`in-order`: and after every change already queued). */
  submit(mutation: Mutation, delayMs: number, order: ApplyOrder = 'in-order'): void {
    const now = this.now();
    this.flush(now);
    let visibleAt = now + Math.max(0, delayMs);
    if (order === 'in-order') visibleAt = Math.max(visibleAt, this.lastVisibleAt() ?? visibleAt);
    // After the flush everything queued is due later than now, so a change due now overtakes nothing.
    if (visibleAt <= now) {
      this.apply(mutation);
      return;
    }
    this.enqueue({ visibleAt, mutation });
  }

  /** Changes accepted but not visible yet. */
  get pendingCount(): number {
    this.flush(this.now());
    return this.pending.length - this.pendingHead;
  }

  /** When the last change queued now will have been applied (epoch ms); undefined when none is pending. */
  pendingUntil(): number | undefined {
    this.flush(this.now());
    return this.lastVisibleAt();
  }

  accountsOf(token: string): AccountKey[] {
    this.flush(this.now());
    const types = this.byToken.get(token);
    if (!types) return [];
    return [...types].map(([accountType, account]) => ({ account, accountType }));
  }

  tokensOf(ref: AccountKey): string[] {
    this.flush(this.now());
    const entry = this.byAccount.get(keyOf(ref));
    return entry ? [...entry.tokens] : [];
  }

  /** Every visible binding, token by token (for the control API). */
  snapshot(): { tokens: TokenBindings[]; accounts: AccountBindings[] } {
    this.flush(this.now());
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

  private lastVisibleAt(): number | undefined {
    return this.pendingHead < this.pending.length ? this.pending.at(-1)?.visibleAt : undefined;
  }

  /** Inserts after every entry due at or before `change`, so equal times keep submit order. */
  private enqueue(change: PendingChange): void {
    const last = this.lastVisibleAt();
    if (last === undefined || last <= change.visibleAt) {
      this.pending.push(change); // always so in-order; keeps the default mode O(1)
      return;
    }
    let low = this.pendingHead;
    let high = this.pending.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.pending[middle]?.visibleAt ?? Infinity) <= change.visibleAt) low = middle + 1;
      else high = middle;
    }
    this.pending.splice(low, 0, change);
  }

  private flush(now: number): void {
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
