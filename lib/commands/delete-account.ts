/**
 * Account deletion (GDPR/PIPL erasure): a tombstone keyed by an HMAC of the account, then op 5
 * on EVERY configured app (Android and iOS are separate TPNS apps), read back later on each.
 */
import pLimit from 'p-limit';
import { followUps } from '../convergence/push.js';
import { pushErasures } from '../convergence/erasures.js';
import type { PushStatus } from '../convergence/push.js';
import { LedgerUnavailableError, tokenKeyId } from '../ledger/records.js';
import { erasureKeyOf, keyMessages } from '../queue/messages.js';
import { INTERACTIVE_RETRY_BUDGET_MS } from '../tpns/constants.js';
import type { AccountRef } from '../tpns/types.js';
import { answerOf } from './answer.js';
import type { Answer, CommandMeta, Failure } from './answer.js';
import type { Convergence } from '../convergence/push.js';
import { accountRef } from './schemas.js';
import type { AccountRefInput, BulkDeleteAccountsInput } from './schemas.js';
import { BULK_RECORD_CONCURRENCY, DIRECT_DEADLINE_MS, DIRECT_ITEM_LIMIT, LEASE_WAIT_MS, configuredPlatforms } from './work.js';

/**
 * Records each deletion above every sign-in of the account the ledger holds: a sign-in answered
 * before the deletion began is in the account's index (strongly consistent reads), so the
 * deletion orders after it without trusting clocks. A Query per account (the index is keyed by
 * account), then the records of all their tokens in full BatchGetItem calls, then a write each.
 */
async function recordDeletions(runtime: Convergence, refs: readonly AccountRef[]): Promise<void> {
  const platforms = configuredPlatforms(runtime.tpns);
  const { ledger } = runtime;
  const limit = pLimit(BULK_RECORD_CONCURRENCY);
  const indexed = await Promise.all(refs.map((ref) => limit(() => ledger.tokensOfAccount(ref))));
  const unique = new Map(indexed.flat().map((key) => [tokenKeyId(key), key]));
  const records = await ledger.getTokens([...unique.values()], { parallel: true });
  await Promise.all(
    refs.map((ref, i) =>
      limit(() => {
        const versions = (indexed[i] ?? []).flatMap((key) =>
          (records.get(tokenKeyId(key))?.entries ?? []).filter((entry) => entry.account === ref.account && entry.accountType === (ref.accountType ?? 0)).map((entry) => entry.v),
        );
        return ledger.recordDeletion(ref, platforms, { floor: Math.max(0, ...versions) });
      }),
    ),
  );
}

/** Pushes recorded deletions directly; read-backs (or pushes, for what TPNS did not take) are queued. */
async function pushDeletions(runtime: Convergence, refs: readonly AccountRef[], meta: CommandMeta) {
  const signal = AbortSignal.timeout(DIRECT_DEADLINE_MS + LEASE_WAIT_MS);
  let results: Map<string, PushStatus>;
  try {
    // Waits for pushes holding a lease of the account's tokens: none of them may send after this answer.
    results = await pushErasures(runtime, refs, { budgetMs: INTERACTIVE_RETRY_BUDGET_MS, signal, waitForLeasesMs: LEASE_WAIT_MS });
  } catch (error) {
    // Recorded already (the tombstones): out of time, or the ledger failing now, only hands the erasure to the worker.
    if (!signal.aborted && !(error instanceof LedgerUnavailableError)) throw error;
    const code = signal.aborted ? 'TIMEOUT' : 'LEDGER_UNAVAILABLE';
    results = new Map(refs.map((ref) => [runtime.ledger.digestOf(ref), { status: 'retry', code, message: 'the direct attempt did not finish' }]));
  }
  const keys = new Map(refs.map((ref) => [runtime.ledger.digestOf(ref), erasureKeyOf(ref)]));
  const messages = followUps(runtime, keys, results, meta.correlationId, -1);
  await runtime.queue.send(messages);
  const apps = runtime.tpns.platforms.length;
  let applied = 0;
  let queued = 0;
  const failed: Failure[] = [];
  for (const result of results.values()) {
    if (result.status === 'applied') applied += apps;
    if (result.status === 'retry') queued += apps;
    if (result.status === 'failed') failed.push({ ...result.subject, code: result.code, message: result.message, retryable: false, platform: runtime.tpns.platforms[0] ?? 'android' });
  }
  return { applied, failed, queued, chunks: messages.filter((message) => message.message.phase === 'push').length };
}

export async function deleteAccount(runtime: Convergence, input: AccountRefInput, meta: CommandMeta): Promise<Answer> {
  const ref = accountRef(input);
  await recordDeletions(runtime, [ref]);
  return answerOf(await pushDeletions(runtime, [ref], meta));
}

/** Up to one TPNS call per app directly, more recorded and queued (202). */
export async function bulkDeleteAccounts(runtime: Convergence, input: BulkDeleteAccountsInput, meta: CommandMeta): Promise<Answer> {
  const refs = input.accounts.map(accountRef);
  await recordDeletions(runtime, refs);
  if (refs.length <= DIRECT_ITEM_LIMIT) return answerOf(await pushDeletions(runtime, refs, meta));
  const messages = keyMessages(refs.map(erasureKeyOf), { phase: 'push', correlationId: meta.correlationId });
  await runtime.queue.send(messages);
  return answerOf({ applied: 0, failed: [], queued: refs.length * runtime.tpns.platforms.length, chunks: messages.length });
}
