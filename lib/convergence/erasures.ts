/**
 * Erasing an account on every app (op 5, or op 3 where a newer sign-in must survive): by the
 * deletion's request (lib/commands/delete-account.ts) and the worker (./reconciler.ts). The
 * decision and its send follow ./push.ts's send window.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { TokenKey, TokenRecord, Tombstone } from '../ledger/records.js';
import type { ErasureReconcileKey } from '../queue/messages.js';
import { DEFAULT_RETRY_POLICY } from '../tpns/constants.js';
import { TpnsError } from '../tpns/errors.js';
import { retryDelay } from '../tpns/retry.js';
import { chunk } from '../tpns/token-entries.js';
import type { AccountRef, Platform } from '../tpns/types.js';
import type { PlannedOp } from './operations.js';
import { erasureAllowed, erasureOps } from './rule.js';
import { eachDecision, retryAfterOf, sendInWindow, sendWindowFrom, settleAll, statusOf, typeOf } from './push.js';
import type { Convergence, PushOptions, PushStatus } from './push.js';

export const refOf = (key: ErasureReconcileKey): AccountRef => (key.accountType === undefined ? { account: key.account } : { account: key.account, accountType: key.accountType });
/** The apps a deletion covers: those configured when it was recorded (its receipt tracks them) and still configured. */
export const erasedApps = (c: Convergence, tombstone: Tombstone): Platform[] => c.tpns.platforms.filter((platform) => tombstone.apps[platform] !== undefined);

export interface ErasureView {
  tombstone: Tombstone;
  records: TokenRecord[];
  keys: TokenKey[];
}

/**
 * The tombstone of an account and the ledger's records of every token it was bound on. The
 * tombstone and the index are read side by side (an erasure key nearly always has a tombstone):
 * two round trips, not three, so a decision taken from the view is that much younger.
 */
export async function erasureView(c: Convergence, ref: AccountRef): Promise<ErasureView | undefined> {
  const [tombstone, keys] = await Promise.all([c.ledger.getTombstone(ref), c.ledger.tokensOfAccount(ref)]);
  if (!tombstone) return undefined;
  const records = [...(await c.ledger.getTokens(keys)).values()];
  return { tombstone, records, keys };
}

/**
 * Removes an erased account's entries from the ledger's tokens (no plaintext stays) and its index
 * items. With `waitMs`, waits that long for pushes that hold a token's lease (the deletion's
 * request: its answer must not precede their sends); the worker does not wait. False when some
 * entry could not be removed yet.
 */
export async function forgetErasedAccount(c: Convergence, ref: AccountRef, view: ErasureView, waitMs = 0): Promise<boolean> {
  const deadline = performance.now() + waitMs;
  const stale = view.records.filter((record) => record.entries.some((entry) => entry.account === ref.account && entry.accountType === typeOf(ref) && entry.v < view.tombstone.v));
  let pending = stale.map(({ platform, token }) => ({ platform, token }));
  const removed: TokenKey[] = [];
  while (pending.length > 0) {
    const outcomes = await Promise.all(pending.map(async (key) => ({ key, outcome: await c.ledger.removeErasedEntry(key, ref, view.tombstone.v) })));
    removed.push(...outcomes.filter(({ outcome }) => outcome === 'removed').map(({ key }) => key));
    pending = outcomes.filter(({ outcome }) => outcome === 'leased').map(({ key }) => key);
    if (pending.length === 0 || performance.now() + 50 >= deadline) break;
    await sleep(50);
  }
  // Only the index items of entries removed now go: any other may belong to a sign-in accepted
  // since the view was read (a stale hint costs a filtered read; a lost one, a device). Entries a
  // push still holds are removed by the erasure's read-back (verifyErasureKeys).
  await c.ledger.forgetAccountIndex(ref, removed);
  return pending.length === 0;
}

/**
 * Accounts prepared at once (ledger reads, the index cleanup, TPNS asked where op 3 is needed).
 * One at a time, a worker batch of 2 000 erasures was a chain of ~8 000 round trips that ran past
 * the 60 s timeout; the ledger bounds its own calls in flight (48) whatever this allows.
 */
const ERASURE_PREPARE_CONCURRENCY = 16;

interface PreparedErasure {
  id: string;
  ref: AccountRef;
  /** Per app where op 3 is needed: the tokens TPNS said hold the account. */
  held: Map<Platform, string[]>;
}

/** Erases accounts on every configured app that has not taken it yet: op 5, or op 3 where a newer sign-in must survive. */
export async function pushErasures(c: Convergence, refs: readonly AccountRef[], options: PushOptions & { waitForLeasesMs?: number }): Promise<Map<string, PushStatus>> {
  const results = new Map<string, PushStatus>();
  /** Accounts with an app not planned this time (TPNS did not say which tokens hold it): the key is retried. */
  const unplanned = new Map<string, PushStatus>();
  // First the slow part: forget the erased entries (waiting for held leases), and ask TPNS which tokens hold the account where op 3 is needed.
  const limit = pLimit(ERASURE_PREPARE_CONCURRENCY);
  const prepare = async (ref: AccountRef): Promise<PreparedErasure | undefined> => {
    const id = c.ledger.digestOf(ref);
    const view = await erasureView(c, ref);
    if (!view) return undefined;
    await forgetErasedAccount(c, ref, view, options.waitForLeasesMs ?? 0);
    const held = new Map<Platform, string[]>();
    for (const platform of unappliedApps(c, view.tombstone)) {
      if (erasureAllowed(ref, view.tombstone, view.records, platform).size === 0) continue;
      try {
        held.set(platform, (await c.tpns.tokensOfAccounts(platform, [ref], { retryBudgetMs: 0 }))[0]?.tokens ?? []);
      } catch (error) {
        if (!(error instanceof TpnsError) || !error.retryable) throw error;
        unplanned.set(id, { status: 'retry', code: error.code, message: error.message, ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }) });
      }
    }
    return { id, ref, held };
  };
  const prepared = (await settleAll(refs.map((ref) => limit(() => prepare(ref))))).filter((entry) => entry !== undefined);
  const deadline = performance.now() + options.budgetMs;
  // Op 5 takes at least as many accounts a call as the token ops take tokens; a slice calls once per app.
  await eachDecision(
    c,
    chunk(prepared, c.tpns.tokensPerCall),
    async (slice) => {
      const sent = await sendErasures(c, slice, { ...options, deadline });
      for (const [id, status] of sent.results) results.set(id, status);
      // The preparation's reason, if it had one, is the one kept.
      for (const [id, status] of sent.unplanned) if (!unplanned.has(id)) unplanned.set(id, status);
    },
    c.tpns.platforms.length,
  );
  for (const [id, status] of unplanned) if (results.get(id)?.status !== 'failed') results.set(id, status);
  for (const ref of refs) {
    const id = c.ledger.digestOf(ref);
    if (!results.has(id)) results.set(id, { status: 'applied' });
  }
  return results;
}

/** Decides from the ledger as it is now (one read of every account in the slice), and sends in that read's window, retrying within it. */
async function sendErasures(c: Convergence, slice: readonly PreparedErasure[], options: PushOptions & { deadline: number }): Promise<{ results: Map<string, PushStatus>; unplanned: Map<string, PushStatus> }> {
  const results = new Map<string, PushStatus>();
  /** Accounts of the slice with an app that could not be planned: retried. */
  const unplanned = new Map<string, PushStatus>();
  const views = new Map<string, { ref: AccountRef; view: ErasureView }>();
  const planned: PlannedOp[] = [];
  const { value: fresh, sentAt } = await c.ledger.timed(() => Promise.all(slice.map(async (entry) => ({ ...entry, view: await erasureView(c, entry.ref) }))));
  const notAfter = sendWindowFrom(sentAt);
  for (const { id, ref, held, view } of fresh) {
    if (!view) continue;
    views.set(id, { ref, view });
    for (const platform of unappliedApps(c, view.tombstone)) {
      const allowed = erasureAllowed(ref, view.tombstone, view.records, platform);
      // Op 3 needs TPNS's list of tokens (not asked: a sign-in recorded since; or not answered): this app waits for the next attempt.
      if (allowed.size > 0 && !held.has(platform)) unplanned.set(id, { status: 'retry', code: 'SIGNED_IN_SINCE', message: 'a sign-in of the account was recorded during the erasure' });
      else planned.push(...erasureOps(ref, allowed, held.get(platform)).map((op) => ({ owner: `${id}/${platform}`, platform, op })));
    }
  }
  const deadline = Math.min(options.deadline, performance.now() + (notAfter - Date.now()));
  let pending = planned;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const owners = await sendInWindow(c, pending, notAfter, options.signal);
    const retry = new Set<string>();
    // Side by side: one after another, 20 accounts on two apps were 40 round trips between this attempt and the next.
    const marks: Promise<void>[] = [];
    for (const [owner, outcomes] of owners) {
      const status = statusOf(outcomes);
      const [id = '', platform] = owner.split('/') as [string, Platform];
      if (status.status === 'applied') {
        const entry = views.get(id);
        if (entry) marks.push(c.ledger.markErasure(entry.ref, entry.view.tombstone.v, platform, 'appliedAt'));
      } else if (status.status === 'retry') retry.add(owner);
      const previous = results.get(id);
      if (!previous || previous.status === 'applied') results.set(id, status);
    }
    await settleAll(marks);
    pending = pending.filter((item) => retry.has(item.owner));
    const delay = retryDelay(attempt, DEFAULT_RETRY_POLICY, Math.random(), retryAfterOf([...retry].flatMap((owner) => (owners.get(owner) ?? []).map(({ outcome }) => outcome))));
    if (pending.length === 0 || performance.now() + delay >= deadline) break;
    await sleep(delay);
    for (const owner of retry) results.delete(owner.split('/')[0] ?? '');
  }
  return { results, unplanned };
}

/** The apps of a deletion that have not taken it yet. */
const unappliedApps = (c: Convergence, tombstone: Tombstone): Platform[] => erasedApps(c, tombstone).filter((platform) => !tombstone.apps[platform]?.appliedAt);
