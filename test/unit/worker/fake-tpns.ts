/** An in-memory TpnsAccountApi for the worker's pure logic: records every operation, fails items on demand. */
import { TpnsAuthError } from '../../../lib/tpns/errors.js';
import type { AccountRef, Binding, ItemOutcome, OperationResult, Platform, TokenAccounts, TpnsAccountApi } from '../../../lib/tpns/types.js';

export interface Operation {
  op: 'bind' | 'removeAccounts' | 'unbindTokens' | 'deleteAccounts';
  platform: Platform;
  items: unknown[];
}

type Verdict = { code: string; retryable: boolean } | undefined;

export class FakeTpns implements TpnsAccountApi {
  readonly platforms: readonly Platform[] = ['android', 'ios'];
  readonly operations: Operation[] = [];
  /** token -> account (op 2 overwrite), per platform. */
  readonly bound = new Map<string, string>();
  /** Decides each item's fate by its token or account; undefined = success. */
  verdict: (subject: string) => Verdict = () => undefined;
  /** A call-level failure for the operations it returns an error for. */
  callError: (operation: Operation) => Error | undefined = () => undefined;

  #run(op: Operation['op'], platform: Platform, subjects: string[], items: unknown[], apply: (index: number) => void): OperationResult {
    const error = this.callError({ op, platform, items });
    if (error) throw error;
    this.operations.push({ op, platform, items });
    const outcomes: ItemOutcome[] = subjects.map((subject, index) => {
      const verdict = this.verdict(subject);
      if (!verdict) apply(index);
      return { index, token: subject, ok: !verdict, code: verdict?.code ?? '0', message: verdict ? `failed ${verdict.code}` : 'ok', retryable: verdict?.retryable ?? false };
    });
    const failed = outcomes.filter((o) => !o.ok).map(({ token, code, message, retryable }) => ({ token, code, message, retryable }));
    return { applied: outcomes.length - failed.length, failed, outcomes, calls: 1 };
  }

  async bind(platform: Platform, bindings: Binding[]) {
    return this.#run('bind', platform, bindings.map((b) => b.token), bindings, (i) => this.bound.set(`${platform}:${bindings[i]!.token}`, bindings[i]!.account));
  }
  async removeAccounts(platform: Platform, items: TokenAccounts[]) {
    return this.#run('removeAccounts', platform, items.map((i) => i.token), items, (i) => {
      const key = `${platform}:${items[i]!.token}`;
      if (items[i]!.accounts.some((a) => a.account === this.bound.get(key))) this.bound.delete(key);
    });
  }
  async unbindTokens(platform: Platform, tokens: string[]) {
    return this.#run('unbindTokens', platform, tokens, tokens, (i) => this.bound.delete(`${platform}:${tokens[i]!}`));
  }
  async deleteAccounts(platform: Platform, accounts: AccountRef[]) {
    return this.#run('deleteAccounts', platform, accounts.map((a) => a.account), accounts, (i) => {
      for (const [key, account] of this.bound) if (account === accounts[i]!.account && key.startsWith(platform)) this.bound.delete(key);
    });
  }
  async tokensOfAccounts(): Promise<never> {
    throw new TpnsAuthError('not used by the worker', { code: 'UNUSED' });
  }
  async accountsOfTokens(): Promise<never> {
    throw new TpnsAuthError('not used by the worker', { code: 'UNUSED' });
  }
}
