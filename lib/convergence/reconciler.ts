/**
 * The worker's loop that makes TPNS match the ledger, level-triggered like a Kubernetes
 * controller: for queued keys, push the current intent (./push.ts, ./erasures.ts), read TPNS
 * back later, repair what differs, verify again with backoff, and dead-letter a key that will not
 * converge. What "matching" means is ./rule.ts.
 */
import { logger, redactToken } from '../observability/logger.js';
import type { WriteResult } from '../ledger/dynamo-ledger.js';
import { tokenKeyId } from '../ledger/records.js';
import type { Lease, TokenKey } from '../ledger/records.js';
import { keyLetter, NOT_CONVERGING_CODE } from '../queue/dead-letter.js';
import type { DeadLetter } from '../queue/dead-letter.js';
import { erasureKeyOf, keyMessages, MAX_DELAY_SECONDS, tokenKeyOf } from '../queue/messages.js';
import type { ErasureReconcileKey, OutgoingKeyMessage, ReconcileKey } from '../queue/messages.js';
import { TpnsError } from '../tpns/errors.js';
import type { AccountRef } from '../tpns/types.js';
import type { OpOutcome, PlannedOp } from './operations.js';
import { erasureAllowed, erasureExtras, heldAccounts, tokenIntent, tokenMatches, tokenOps } from './rule.js';
import type { TokenIntent } from './rule.js';
import { byPlatform, callGroups, eachDecision, followUps, LEASE_HELD_RETRY_SECONDS, lookupIn, pushTokens, refsOf, sendInWindow, sendWindowFrom, statusOf } from './push.js';
import type { Convergence, PushStatus } from './push.js';
import { erasedApps, erasureView, forgetErasedAccount, pushErasures, refOf } from './erasures.js';

/**
 * Queued pushes of one key before it is dead-lettered (TPNS kept failing it retryably): with the
 * backoff below about two hours, long enough to ride out a TPNS outage, short enough to alarm.
 */
export const MAX_PUSH_ATTEMPTS = 16;

/** Results of the last allowed push attempt that still failed become dead letters instead of another retry. */
function exhausted(keys: ReadonlyMap<string, ReconcileKey>, results: Map<string, PushStatus>, attempt: number, report: BatchReport, sourceOf: SourceOf): void {
  if (attempt + 1 < MAX_PUSH_ATTEMPTS) return;
  for (const [id, result] of results) {
    const key = keys.get(id);
    if (result.status !== 'retry' || !key) continue;
    results.delete(id);
    report.counts.deadLettered += 1;
    report.deadLetters.push(keyLetter(key, { code: result.code, message: `TPNS did not take the push after ${attempt + 1} attempts: ${result.message}` }, sourceOf(key)));
  }
}

/** Backoff of read-backs that found TPNS different: the verify delay, doubled each time. */
const verifyRetryDelaySeconds = (c: Convergence, attempt: number): number => Math.min(MAX_DELAY_SECONDS, c.settings.verifyDelaySeconds * 2 ** attempt);

/** A key as a log line may name it: a token by its hash, an erased account not at all. */
const loggableKey = (key: ReconcileKey): Record<string, string> =>
  key.kind === 'token' ? { platform: key.platform, token: redactToken(key.token) } : { kind: 'erasure' };

/** Which message a key came from, for its dead letter. */
export type SourceOf = (key: ReconcileKey) => { messageId: string; correlationId: string };

export interface BatchReport {
  /** Follow-up messages (read-backs, retries) to queue. */
  messages: OutgoingKeyMessage[];
  deadLetters: DeadLetter[];
  /** `handedBack`: keys queued again untouched, the invocation running short of time. */
  counts: Record<'applied' | 'verified' | 'repaired' | 'deadLettered' | 'superseded' | 'leaseHeld' | 'handedBack', number>;
}

export const emptyReport = (): BatchReport => ({
  messages: [],
  deadLetters: [],
  counts: { applied: 0, verified: 0, repaired: 0, deadLettered: 0, superseded: 0, leaseHeld: 0, handedBack: 0 },
});

/** A worker push's results into the batch report: read-backs and retries to queue, refusals and exhausted retries to dead-letter. */
function reportPushes(c: Convergence, byId: ReadonlyMap<string, ReconcileKey>, results: Map<string, PushStatus>, attempt: number, report: BatchReport, sourceOf: SourceOf): void {
  exhausted(byId, results, attempt, report, sourceOf);
  report.messages.push(...followUps(c, byId, results, (key) => sourceOf(key).correlationId, attempt));
  for (const [id, result] of results) {
    const key = byId.get(id);
    if (result.status === 'applied') report.counts.applied += 1;
    if (result.status === 'failed' && key) {
      report.counts.deadLettered += 1;
      report.deadLetters.push(keyLetter(key, { code: result.code, message: result.message }, sourceOf(key)));
      logger.warn('Key refused by TPNS for good; dead-lettered', { ...loggableKey(key), code: result.code });
    }
  }
}

/**
 * Keys claimed, pushed and released at a time, per app. A batch claimed all at once (up to 2 000
 * keys) could spend its leases' send margin on claiming and re-reading, and drop every key as
 * LEASE_LOST without sending anything. 200 is ten full TPNS calls of 20 accounts, the worker's
 * default TPNS concurrency (WORKER_TPNS_CONCURRENCY), so slicing costs no call and no parallelism.
 */
export const PUSH_SLICE = 200;

/** The worker's push of token keys: per slice, take each lease, push, queue the follow-ups. */
export async function pushTokenKeys(c: Convergence, keys: readonly TokenKey[], attempt: number, report: BatchReport, sourceOf: SourceOf): Promise<void> {
  for (const [, ofApp] of byPlatform(keys, (key) => key.platform)) {
    for (let start = 0; start < ofApp.length; start += PUSH_SLICE) await pushSlice(c, ofApp.slice(start, start + PUSH_SLICE), attempt, report, sourceOf);
  }
}

async function pushSlice(c: Convergence, keys: readonly TokenKey[], attempt: number, report: BatchReport, sourceOf: SourceOf): Promise<void> {
  // A failed claim fails the part (the leases taken are given back): SQS redelivers it, and its redrive policy bounds an outage.
  const claims = await c.ledger.claimAll(keys);
  const held = keys.filter((_, i) => !claims[i]).map(tokenKeyOf);
  report.counts.leaseHeld += held.length;
  for (const key of held) report.messages.push(...keyMessages([key], { phase: 'push', correlationId: sourceOf(key).correlationId, attempt, delaySeconds: LEASE_HELD_RETRY_SECONDS }));
  const leased = claims.filter((claim) => claim !== undefined);
  const results = await pushTokens(c, leased, { budgetMs: 0 });
  const byId = new Map(leased.map(({ record }) => [tokenKeyId(record), tokenKeyOf(record)]));
  reportPushes(c, byId, results, attempt, report, sourceOf);
}

/** Describes an intent for a dead letter. */
const describeIntent = (intent: TokenIntent) => ({
  empty: intent.empty,
  bound: [...intent.bound].map(([accountType, account]) => ({ account, accountType })),
  absent: intent.absent,
  v: intent.v,
});

/** The worker's read-back of token keys: verified, or repaired and read back again later. */
export async function verifyTokenKeys(c: Convergence, keys: readonly { key: TokenKey; attempt: number }[], report: BatchReport, sourceOf: SourceOf): Promise<void> {
  // TPNS first, then the ledger: an intent recorded in between is compared as the newer one (and repaired), never missed.
  const actual = new Map<string, AccountRef[]>();
  try {
    for (const [platform, ofApp] of byPlatform(keys, ({ key }) => key.platform)) {
      for (const result of await c.tpns.accountsOfTokens(platform, ofApp.map(({ key }) => key.token), { retryBudgetMs: 0 })) {
        actual.set(tokenKeyId({ platform, token: result.token }), heldAccounts(result));
      }
    }
  } catch (error) {
    if (!(error instanceof TpnsError) || !error.retryable) throw error;
    // TPNS did not answer the read-back: look again later, no attempt is spent.
    for (const { key, attempt } of keys) report.messages.push(...keyMessages([tokenKeyOf(key)], { phase: 'verify', correlationId: sourceOf(tokenKeyOf(key)).correlationId, attempt, delaySeconds: c.settings.verifyDelaySeconds }));
    return;
  }
  const records = await c.ledger.getTokens(keys.map(({ key }) => key));
  const tombstones = await c.ledger.getTombstones(refsOf(records.values()));
  const lookup = lookupIn(c.ledger, tombstones);
  const repair: { key: TokenKey; attempt: number }[] = [];
  const verdicts: Promise<void>[] = [];
  for (const { key, attempt } of keys) {
    const id = tokenKeyId(key);
    const record = records.get(id);
    if (!record) continue;
    if (record.lease && record.lease.until >= Date.now()) {
      // A push is under way; its holder queues its own read-back. Look again later in case it crashed.
      report.counts.leaseHeld += 1;
      report.messages.push(...keyMessages([tokenKeyOf(key)], { phase: 'verify', correlationId: sourceOf(tokenKeyOf(key)).correlationId, attempt, delaySeconds: c.settings.verifyDelaySeconds }));
      continue;
    }
    const intent = tokenIntent(record, lookup);
    const held = actual.get(id) ?? [];
    if (tokenMatches(intent, held)) {
      verdicts.push(
        c.ledger.markVerdict(key, record.v, { state: 'verified', attempts: 0 }).then((marked) => {
          if (marked) report.counts.verified += 1;
          else report.counts.superseded += 1;
        }),
      );
      continue;
    }
    if (attempt + 1 >= c.settings.maxVerifyAttempts) {
      verdicts.push(c.ledger.markVerdict(key, record.v, { state: 'drift', attempts: attempt + 1 }).then(() => undefined));
      report.counts.deadLettered += 1;
      report.deadLetters.push(
        keyLetter(tokenKeyOf(key), { code: NOT_CONVERGING_CODE, message: `TPNS still differs from the ledger after ${attempt + 1} read-backs` }, sourceOf(tokenKeyOf(key)), {
          desired: describeIntent(intent),
          actual: held,
        }),
      );
      logger.error('Key does not converge; dead-lettered', { ...loggableKey(tokenKeyOf(key)), attempts: attempt + 1 });
      continue;
    }
    repair.push({ key, attempt });
  }
  await Promise.all(verdicts);
  if (repair.length === 0) return;
  // Repair: under the lease, against the read-back when the intent is still the one compared;
  // each group decided from its own claims (which read the records) right before its send.
  const byId = new Map(repair.map((entry) => [tokenKeyId(entry.key), entry]));
  const claims = new Map<string, WriteResult & { lease: Lease }>();
  const outcomes = new Map<string, OpOutcome[]>();
  await eachDecision(c, callGroups(c, [...byId.keys()], (id) => byId.get(id)!.key.platform), async (group) => {
    const { value: leased, sentAt } = await c.ledger.timed(async () => (await c.ledger.claimAll(group.map((id) => byId.get(id)!.key))).filter((claim) => claim !== undefined));
    const notAfter = sendWindowFrom(sentAt);
    for (const claim of leased) claims.set(tokenKeyId(claim.record), claim);
    try {
      const freshLookup = lookupIn(c.ledger, await c.ledger.getTombstones(refsOf(leased.map(({ record }) => record))));
      const planned: PlannedOp[] = [];
      for (const { record } of leased) {
        const id = tokenKeyId(record);
        const compared = records.get(id);
        const readBack = compared && compared.v === record.v ? actual.get(id) : undefined;
        planned.push(...tokenOps(record.token, tokenIntent(record, freshLookup), readBack).map((op) => ({ owner: id, platform: record.platform, op })));
      }
      for (const [id, outcome] of await sendInWindow(c, planned, notAfter)) outcomes.set(id, outcome);
    } finally {
      await Promise.all(leased.map(({ record, lease }) => c.ledger.release(record, lease)));
    }
  });
  for (const { key, attempt } of repair) {
    if (!claims.has(tokenKeyId(key))) {
      report.counts.leaseHeld += 1;
      report.messages.push(...keyMessages([tokenKeyOf(key)], { phase: 'verify', correlationId: sourceOf(tokenKeyOf(key)).correlationId, attempt, delaySeconds: LEASE_HELD_RETRY_SECONDS }));
      continue;
    }
    const status = statusOf(outcomes.get(tokenKeyId(key)) ?? []);
    if (status.status === 'failed') {
      report.counts.deadLettered += 1;
      report.deadLetters.push(keyLetter(tokenKeyOf(key), { code: status.code, message: status.message }, sourceOf(tokenKeyOf(key))));
      continue;
    }
    report.counts.repaired += 1;
    // A retryable failure is read back too: the next read-back repairs again.
    report.messages.push(...keyMessages([tokenKeyOf(key)], { phase: 'verify', correlationId: sourceOf(tokenKeyOf(key)).correlationId, attempt: attempt + 1, delaySeconds: verifyRetryDelaySeconds(c, attempt) }));
  }
}

/** The worker's push of erasure keys. */
export async function pushErasureKeys(c: Convergence, keys: readonly ErasureReconcileKey[], attempt: number, report: BatchReport, sourceOf: SourceOf): Promise<void> {
  const refs = keys.map(refOf);
  // Taken up, as a token's claim notes: while its retries run (a TPNS outage) the sweep starts no
  // second chain. Read-backs do not note it, as for tokens: a read-back TPNS does not answer is
  // queued again every VERIFY_DELAY_SECONDS, and a write each time would load the table for the
  // whole outage; after SWEEP_AFTER_SECONDS the sweep starts one push chain instead.
  await c.ledger.touchUnsettled({ tokens: [], erasures: refs });
  const results = await pushErasures(c, refs, { budgetMs: 0 });
  const byId = new Map(refs.map((ref) => [c.ledger.digestOf(ref), erasureKeyOf(ref)]));
  reportPushes(c, byId, results, attempt, report, sourceOf);
}

/** The worker's read-back of erasure keys on every configured app; each key on its own, so one failed read delays only its key. */
export async function verifyErasureKeys(c: Convergence, keys: readonly { key: ErasureReconcileKey; attempt: number }[], report: BatchReport, sourceOf: SourceOf): Promise<void> {
  await Promise.all(
    keys.map(async ({ key, attempt }) => {
      try {
        await verifyErasure(c, key, attempt, report, sourceOf);
      } catch (error) {
        if (!(error instanceof TpnsError) || !error.retryable) throw error;
        // TPNS did not answer the read-back: look again later, the attempt is not spent.
        report.messages.push(...keyMessages([key], { phase: 'verify', correlationId: sourceOf(key).correlationId, attempt, delaySeconds: c.settings.verifyDelaySeconds }));
      }
    }),
  );
}

async function verifyErasure(c: Convergence, key: ErasureReconcileKey, attempt: number, report: BatchReport, sourceOf: SourceOf): Promise<void> {
  const ref = refOf(key);
  const first = await c.ledger.getTombstone(ref);
  if (!first) return;
  // TPNS first, then the ledger: a sign-in recorded in between counts as allowed, never removed.
  const apps = erasedApps(c, first);
  const heldByApp = new Map(await Promise.all(apps.map(async (platform) => [platform, (await c.tpns.tokensOfAccounts(platform, [ref], { retryBudgetMs: 0 }))[0]?.tokens ?? []] as const)));
  const { value: view, sentAt } = await c.ledger.timed(() => erasureView(c, ref));
  const notAfter = sendWindowFrom(sentAt);
  if (!view) return;
  const forgotten = await forgetErasedAccount(c, ref, view);
  const planned: PlannedOp[] = [];
  const extrasByApp: Record<string, string[]> = {};
  for (const platform of apps) {
    const extras = erasureExtras(heldByApp.get(platform) ?? [], erasureAllowed(ref, view.tombstone, view.records, platform));
    if (extras.length === 0) {
      if (!view.tombstone.apps[platform]?.verifiedAt) await c.ledger.markErasure(ref, view.tombstone.v, platform, 'verifiedAt');
      continue;
    }
    extrasByApp[platform] = extras;
    // Op 3 on exactly the tokens that still hold it: a sign-in of it elsewhere since is left alone.
    planned.push(...extras.map((token): PlannedOp => ({ owner: platform, platform, op: { kind: 'remove', token, accounts: [ref] } })));
  }
  if (planned.length === 0) {
    report.counts.verified += 1;
    // TPNS is clean, but a push still held a token holding the account's plaintext: look again.
    if (!forgotten) report.messages.push(...keyMessages([key], { phase: 'verify', correlationId: sourceOf(key).correlationId, attempt, delaySeconds: LEASE_HELD_RETRY_SECONDS }));
    // Verified on every app and gone from the ledger's records: the sweep has nothing left to do, the seal goes.
    else await c.ledger.settleErasure(ref, view.tombstone.v);
    return;
  }
  if (attempt + 1 >= c.settings.maxVerifyAttempts) {
    report.counts.deadLettered += 1;
    report.deadLetters.push(
      keyLetter(key, { code: NOT_CONVERGING_CODE, message: `the account is still bound after ${attempt + 1} read-backs` }, sourceOf(key), {
        desired: { tokens: 'none, except sign-ins accepted after the deletion' },
        actual: extrasByApp,
      }),
    );
    logger.error('Erasure does not converge; dead-lettered', { attempts: attempt + 1 });
    // The alarm's and the operator's now (the dead letter names the account), not the sweep's.
    await c.ledger.settleErasure(ref, view.tombstone.v);
    return;
  }
  // A repair the window closed on is sent again by the next read-back, decided afresh.
  await sendInWindow(c, planned, notAfter);
  report.counts.repaired += 1;
  report.messages.push(...keyMessages([key], { phase: 'verify', correlationId: sourceOf(key).correlationId, attempt: attempt + 1, delaySeconds: verifyRetryDelaySeconds(c, attempt) }));
}
