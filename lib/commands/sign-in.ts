/** Sign-in on a device: op 2, the token now belongs to this account (for its account type). */
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { DynamoLedger, WriteResult } from '../ledger/dynamo-ledger.js';
import { LedgerUnavailableError, nextVersion } from '../ledger/records.js';
import type { TokenKey, Tombstone } from '../ledger/records.js';
import { keyMessages } from '../queue/messages.js';
import type { AccountRef } from '../tpns/types.js';
import { answerOf } from './answer.js';
import type { Answer, CommandMeta } from './answer.js';
import { byPlatform, SEND_WINDOW_MS } from '../convergence/push.js';
import type { Convergence } from '../convergence/push.js';
import { accountRef } from './schemas.js';
import type { BulkBindInput, DeviceInput } from './schemas.js';
import { BULK_RECORD_CONCURRENCY, COGNITO_PUSH, DIRECT_ITEM_LIMIT, LEASE_WAIT_MS, assertConfigured, pushRecorded, queueRecorded } from './work.js';
import type { DirectPushOptions } from './work.js';

const ERASURE_POLL_MS = 40;

/**
 * Waits (up to `waitMs`) while an erasure of a signing-in account is not applied yet on the app
 * of its sign-in: that erasure's push may have chosen op 5 from a ledger read made before this
 * sign-in, and must reach TPNS first, or it would remove the new binding after this sign-in was
 * answered (G2). A push that decides after this sign-in is recorded sees it and spares its token.
 * Returns the tombstones as last read (their versions are the sign-ins' floors either way), and
 * `outlast`: whether an erasure of the app may still send (not applied when the wait ended, or
 * applied but not verified: its read-back may repair with op 3).
 */
async function awaitErasurePushes(
  ledger: DynamoLedger,
  items: readonly { key: TokenKey; ref: AccountRef }[],
  tombstones: Map<string, Tombstone>,
  waitMs: number,
): Promise<{ tombstones: Map<string, Tombstone>; outlast: boolean }> {
  const appOf = ({ key, ref }: { key: TokenKey; ref: AccountRef }) => tombstones.get(ledger.digestOf(ref))?.apps[key.platform];
  /** The item's app is covered by an erasure that has not reached `field` yet. */
  const erasureLacks = (field: 'appliedAt' | 'verifiedAt') => (item: { key: TokenKey; ref: AccountRef }) => {
    const app = appOf(item);
    return app !== undefined && !app[field];
  };
  const unapplied = erasureLacks('appliedAt');
  const deadline = performance.now() + waitMs;
  let waiting = items.filter(unapplied);
  while (waiting.length > 0 && performance.now() < deadline) {
    await sleep(ERASURE_POLL_MS);
    for (const [digest, tombstone] of await ledger.getTombstones(waiting.map(({ ref }) => ref))) tombstones.set(digest, tombstone);
    waiting = waiting.filter(unapplied);
  }
  return { tombstones, outlast: items.some(erasureLacks('verifiedAt')) };
}

/**
 * The sign-in is recorded; an erasure push or read-back repair that decided from a read before
 * that write still sends within SEND_WINDOW_MS of the read. Pushing (and answering) only after
 * that long puts the new binding after such an op 5 or op 3. Only while the account's erasure
 * is unverified on the sign-in's app: a re-sign-in within seconds of a deletion.
 */
const outlastErasureDecisions = (outlast: boolean): Promise<void> => (outlast ? sleep(SEND_WINDOW_MS) : Promise.resolve());

/** Recorded sign-ins and the options to push them with. */
export interface RecordedSignIns {
  writes: WriteResult[];
  push: DirectPushOptions;
}

/**
 * Records sign-ins, each versioned above its account's tombstone (waiting a moment, up to
 * `leaseWaitMs`, for an erasure of the account still being pushed): a deletion answered before
 * the sign-in began orders before it even if another container's clock runs a little ahead.
 * One token's items in request order (the last one wins); different tokens in parallel.
 */
export async function recordSignIns(runtime: Convergence, items: readonly { key: TokenKey; ref: AccountRef }[], claim: boolean, options: DirectPushOptions = {}): Promise<RecordedSignIns> {
  const { ledger } = runtime;
  const [read] = await Promise.all([ledger.getTombstones(items.map(({ ref }) => ref)), ledger.indexAccount(items)]);
  const { tombstones, outlast } = await awaitErasurePushes(ledger, items, read, options.leaseWaitMs ?? LEASE_WAIT_MS);
  const byToken = new Map<string, { key: TokenKey; ref: AccountRef }[]>();
  for (const item of items) {
    const id = `${item.key.platform}:${item.key.token}`;
    byToken.set(id, [...(byToken.get(id) ?? []), item]);
  }
  const limit = pLimit(BULK_RECORD_CONCURRENCY);
  const writes = await Promise.all(
    [...byToken.values()].map((group) =>
      limit(async () => {
        let last: WriteResult | undefined;
        for (const [index, { key, ref }] of group.entries()) {
          if (last?.lease) await ledger.release(last.record, last.lease);
          const floor = tombstones.get(ledger.digestOf(ref))?.v ?? 0;
          last = await ledger.recordSignIn(key, ref, { claim: claim && index === group.length - 1, floor });
        }
        return last as WriteResult;
      }),
    ),
  );
  await outlastErasureDecisions(outlast);
  // That wait, after the writes, also outlasted any holder of a token's lease that read before
  // them (the same window): no second wait, so Cognito's 5 s hold.
  return { writes, push: outlast ? { ...options, leaseWaitMs: 0 } : options };
}

/**
 * One sign-in: the tombstone check and the index hint first, then the one conditional write that
 * records, versions (above the tombstone) and claims the push. Accepted exactly when that write
 * succeeded: a failure before it leaves nothing recorded (503), after it the answer is 2xx.
 */
export async function signIn(runtime: Convergence, input: DeviceInput, meta: CommandMeta, options: DirectPushOptions = {}): Promise<Answer> {
  assertConfigured(runtime.tpns, [input.platform]);
  const item = { key: { platform: input.platform, token: input.token }, ref: accountRef(input) };
  const { writes, push } = await recordSignIns(runtime, [item], !runtime.directBreaker?.isOpen(), options);
  return answerOf(await pushRecorded(runtime, writes, meta, push));
}

/**
 * For callers that must not fail (the Cognito trigger fails the sign-in if it throws, and gives
 * it 5 s): a shorter direct attempt, and whatever goes wrong the queue carries the sign-in. When
 * the ledger could not take it, the queued message carries the sign-in itself with its acceptance
 * version and the worker records it (a newer operation on the token still wins; this one case
 * orders by the accepting container's clock, docs/reliability.md). Only an unreachable queue throws.
 */
export async function signInOrQueue(runtime: Convergence, input: DeviceInput, meta: CommandMeta): Promise<Answer> {
  assertConfigured(runtime.tpns, [input.platform]);
  const v = nextVersion();
  try {
    return await signIn(runtime, input, meta, COGNITO_PUSH);
  } catch (error) {
    const { platform, token, account, accountType } = input;
    if (error instanceof LedgerUnavailableError) {
      await runtime.queue.send([
        { message: { v: 2, phase: 'record', correlationId: meta.correlationId, attempt: 0, signIns: [{ platform, token, account, ...(accountType === undefined ? {} : { accountType }), v }] } },
      ]);
    } else {
      // Recorded, but not pushed (e.g. TPNS refused the credentials): the worker pushes it.
      await runtime.queue.send(keyMessages([{ kind: 'token', platform, token }], { phase: 'push', correlationId: meta.correlationId }));
    }
    return answerOf({ applied: 0, failed: [], queued: 1, chunks: 1 });
  }
}

/** Many sign-ins (an import): all recorded, then pushed directly when one TPNS call per platform holds them, else queued (202). */
export async function bulkBind(runtime: Convergence, input: BulkBindInput, meta: CommandMeta): Promise<Answer> {
  const apps = byPlatform(input.items, (item) => item.platform);
  assertConfigured(runtime.tpns, new Set(apps.map(([platform]) => platform)));
  const items = input.items.map((item) => ({ key: { platform: item.platform, token: item.token }, ref: accountRef(item) }));
  const direct = apps.every(([, ofApp]) => ofApp.length <= DIRECT_ITEM_LIMIT);
  const { writes, push } = await recordSignIns(runtime, items, direct);
  if (direct) return answerOf(await pushRecorded(runtime, writes, meta, push));
  return answerOf(await queueRecorded(runtime, writes, meta));
}
