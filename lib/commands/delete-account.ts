/**
 * Account deletion: op 5 (remove every token from the account) on EVERY configured platform,
 * because Android and iOS are separate TPNS apps and erasure (GDPR/PIPL) must reach both.
 */
import { TpnsConfigError } from '../tpns/errors.js';
import type { AccountRef, Platform, TpnsAccountApi } from '../tpns/types.js';
import { answerOf } from './answer.js';
import type { Answer, CommandMeta } from './answer.js';
import type { Runtime } from './runtime.js';
import { accountRef } from './schemas.js';
import type { AccountRefInput, BulkDeleteAccountsInput } from './schemas.js';
import { applyAndConfirm, applyOrQueueBySize } from './work.js';
import type { WorkInput } from './work.js';

/** Erasure that silently covered no app would be worse than an error. */
export function configuredPlatforms(tpns: TpnsAccountApi): readonly Platform[] {
  if (tpns.platforms.length === 0) throw new TpnsConfigError('No TPNS platform is configured (set TPNS_ANDROID_* or TPNS_IOS_*)');
  return tpns.platforms;
}

const deleteWorks = (tpns: TpnsAccountApi, accounts: AccountRef[]): WorkInput[] =>
  configuredPlatforms(tpns).map((platform) => ({ kind: 'delete-accounts', platform, accounts }));

/**
 * Directly on each platform in parallel and, at the same time, a confirming op 5 per platform
 * queued in the account's FIFO group (the only copy of what TPNS did not take: 202). The
 * confirmation erases again what an older sign-in still waiting in a token's group re-binds,
 * provided the worker receives that sign-in first: SQS FIFO orders within a group only, so this
 * is usual (it was sent earlier), not guaranteed (docs/reliability.md, "Known gaps").
 */
export async function deleteAccount(runtime: Runtime, input: AccountRefInput, meta: CommandMeta): Promise<Answer> {
  return answerOf(await applyAndConfirm(runtime, deleteWorks(runtime.tpns, [accountRef(input)]), meta));
}

/** Up to one TPNS call per platform directly (each account confirmed in its group), more planned into chunks and queued (202). */
export async function bulkDeleteAccounts(runtime: Runtime, input: BulkDeleteAccountsInput, meta: CommandMeta): Promise<Answer> {
  return answerOf(await applyOrQueueBySize(runtime, deleteWorks(runtime.tpns, input.accounts.map(accountRef)), meta));
}
