/**
 * The intent ledger on DynamoDB (one table, `pk`/`sk`, TTL on `expiresAt`):
 *
 * | item | pk | sk | holds |
 * | --- | --- | --- | --- |
 * | token | `T#<platform>#<token>` | `#` | `v`, `clearV`, `b<accountType>` = { a: account, v, s: since }, push state, lease, `uS`/`uAt` while unsettled |
 * | account index | `I#<digest>` | `T#<platform>#<token>` | nothing: a hint "this account was bound here" |
 * | tombstone | `E#<digest>` | `#` | `v`, `at` (requested), `apps`, `expiresAt`; `sa` (the sealed account) and `uS`/`uAt` while unsettled |
 *
 * A token item is in the sparse `unsettled` index (`uS` = one of UNSETTLED_SHARDS, `uAt` = when its
 * work last moved) from its recording until a read-back verifies it or it is dead-lettered: the
 * sweep (lib/worker/sweep.ts) finds there what no queued key will push any more. A tombstone is
 * in it too, from its recording until its erasure is verified on every app or dead-lettered.
 *
 * `<digest>` is an HMAC of (account type, account) under ERASURE_KEY: index and tombstone keys
 * carry no plaintext account. An unsettled tombstone holds the account sealed (./sealed-account.ts)
 * for the sweep; settling removes the seal. One item per token keeps a token's whole intent, its push state and
 * its lease in one conditional write: a sign-in records, versions and claims the push in one call.
 *
 * The SDK is imported on first use (off the cold-start path of code that never touches the
 * table); it finds the endpoint itself (AWS_ENDPOINT_URL_DYNAMODB locally). Items go through
 * `@aws-sdk/util-dynamodb` here, not through `@aws-sdk/lib-dynamodb`'s document client: that
 * client rebuilds its middleware stack twice per request and refuses `cacheMiddleware`, which
 * cost ~10 % more CPU per request side by side (docs/performance.md); every call goes through
 * the five plumbing methods at the end, the only places that marshall.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as ClientDynamoDb from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import type * as UtilDynamoDb from '@aws-sdk/util-dynamodb';
import pLimit from 'p-limit';
import type { AccountRef, Platform } from '../tpns/types.js';
import { LedgerUnavailableError, nextVersion, tokenKeyId } from './records.js';
import type { DeviceState, IntentEntry, Lease, TokenKey, TokenRecord, Tombstone } from './records.js';
import type { AccountSeal } from './sealed-account.js';
import { sdkErrorReason } from '../config/sdk-error.js';

type Item = Record<string, unknown>;
/** An item (or key) as DynamoDB's wire format has it: what batch calls hand back unprocessed. */
type WireItem = Record<string, AttributeValue>;
interface Connection {
  sdk: typeof ClientDynamoDb;
  codec: typeof UtilDynamoDb;
  client: DynamoDBClient;
}
/** An UpdateItem as the ledger writes it: plain values, marshalled by #update. */
interface UpdateInput {
  Key: Item;
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string> | undefined;
  ExpressionAttributeValues?: Item;
}
/** A Query as the ledger runs it: plain values, every page read, marshalled by #query. */
interface QueryInput {
  IndexName?: string;
  KeyConditionExpression: string;
  ExpressionAttributeValues: Item;
  ConsistentRead?: boolean;
  /** At most this many items over all pages. */
  limit?: number;
}
/** undefined values are left out, as the document client did (removeUndefinedValues). */
const MARSHALL_OPTIONS = { removeUndefinedValues: true } as const;

export interface LedgerOptions {
  tableName: string;
  /** HMAC key of index and tombstone keys (ERASURE_KEY / ERASURE_KEY_PARAM). */
  erasureKey: string;
  /** How long erasure receipts are kept (ERASURE_RETENTION_DAYS). */
  retentionDays: number;
  /** Attempts per DynamoDB call, the SDK's own retry strategy (default 3). */
  maxAttempts?: number;
}

export interface WriteResult {
  record: TokenRecord;
  /** Set when the write also claimed the token's push lease. */
  lease?: Lease;
}

/** What the unsettled index lists: tokens, and the accounts of erasures (opened from their seals). */
export interface UnsettledWork {
  tokens: TokenKey[];
  erasures: AccountRef[];
}

/** A sweep's listing: the work, how many index entries it read, and how many seals did not open. */
export interface UnsettledListing extends UnsettledWork {
  /** Index entries read (at most the limit): settled, expired and unopened erasures included. */
  listed: number;
  /** Tombstones whose seal does not open with this ERASURE_KEY: left out, never swept. */
  unopened: number;
}

/** Long enough for one TPNS request (5 s timeout) and its ledger bookkeeping; a crashed holder blocks no longer. */
export const LEASE_MS = 15_000;
/** DynamoDB's limits per BatchGetItem / BatchWriteItem call. */
const MAX_BATCH_GET = 100;
const MAX_BATCH_WRITE = 25;
/** Unprocessed keys of a batch call are retried this often before the ledger counts as unavailable. */
const MAX_UNPROCESSED_ROUNDS = 5;
const TOKEN_SK = '#';
/** The sparse index of token items whose intent is not verified yet (serverless.yml). */
export const UNSETTLED_INDEX = 'unsettled';
/**
 * Partitions of that index. Every recorded operation writes it: one partition would cap a bulk
 * at one index partition's write rate (1 000 per second), and throttling the index throttles
 * the table. 16 spread a 10 000-item bulk; the sweep queries each.
 */
export const UNSETTLED_SHARDS = 16;
const shardKey = (shard: number): string => `U#${shard}`;
const unsettledShard = (v: number): string => shardKey(v % UNSETTLED_SHARDS);
const ENTRY_PREFIX = 'b';

const tokenPk = ({ platform, token }: TokenKey): string => `T#${platform}#${token}`;
const typeOf = (ref: AccountRef): number => ref.accountType ?? 0;

function keyOfPk(pk: string): TokenKey {
  const [, platform, ...rest] = pk.split('#');
  return { platform: platform as Platform, token: rest.join('#') };
}

/** Verified, or dead-lettered as drift (the alarm's and the operator's): nothing left for the sweep. */
const settles = (state: DeviceState): boolean => state === 'verified' || state === 'drift';

const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

function unavailable(error: unknown): never {
  if (error instanceof LedgerUnavailableError) throw error;
  throw new LedgerUnavailableError(`The intent ledger (DynamoDB) did not answer: ${sdkErrorReason(error)}`, { cause: error });
}

function toRecord(item: Item): TokenRecord {
  const entries: IntentEntry[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(ENTRY_PREFIX) || !/^b\d+$/.test(name)) continue;
    const entry = value as { a: string; v: number; s: string };
    entries.push({ account: entry.a, accountType: Number(name.slice(1)), v: entry.v, since: entry.s });
  }
  const lease = typeof item.lu === 'number' && typeof item.lb === 'string' ? { until: item.lu, by: item.lb } : undefined;
  return {
    ...keyOfPk(item.pk as string),
    v: item.v as number,
    ...(typeof item.clearV === 'number' ? { clearV: item.clearV } : {}),
    entries,
    state: (item.st as DeviceState | undefined) ?? 'pending',
    stateV: (item.stV as number | undefined) ?? 0,
    stateAt: (item.stAt as string | undefined) ?? '',
    ...(lease ? { lease } : {}),
    attempts: (item.att as number | undefined) ?? 0,
  };
}

/** DynamoDB's TTL deletes within days of expiry, not at once: an expired receipt counts as gone. */
const isLive = (item: Item): boolean => (item.expiresAt as number) * 1000 > Date.now();

function toTombstone(item: Item): Tombstone {
  return {
    digest: (item.pk as string).slice(2),
    v: item.v as number,
    requestedAt: item.at as string,
    apps: (item.apps as Tombstone['apps'] | undefined) ?? {},
    expiresAt: item.expiresAt as number,
  };
}

/**
 * Sends `first`, then whatever DynamoDB left unprocessed, backing off 50 ms, 100 ms ... between
 * rounds; after MAX_UNPROCESSED_ROUNDS the ledger counts as unavailable.
 */
async function untilProcessed<T>(what: string, first: T[], send: (pending: T[]) => Promise<T[]>): Promise<void> {
  let pending = first;
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_UNPROCESSED_ROUNDS) throw new LedgerUnavailableError(`DynamoDB kept ${what} unprocessed`);
    pending = await send(pending);
    if (pending.length > 0) await sleep(50 * 2 ** round);
  }
}

/**
 * DynamoDB calls in flight per container, retries included. A 10 000-item bulk records 10 000
 * items at once; past the SDK's 50 sockets the rest would wait inside the SDK anyway, each holding
 * its request (memory) and the SDK warning on stderr. Here they wait as plain closures.
 */
export const LEDGER_CONCURRENCY = 48;
/** Within timed(): the moment the first DynamoDB request of its reads left (p-limit keeps the async context). */
const firstSend = new AsyncLocalStorage<{ at: number }>();

export class DynamoLedger {
  readonly tableName: string;
  readonly #options: LedgerOptions;
  /** Loaded on first use, like the SDK: only deletions and the sweep seal or open accounts. */
  #seal: Promise<AccountSeal> | undefined;
  #connection: Promise<Connection> | undefined;

  constructor(options: LedgerOptions) {
    this.tableName = options.tableName;
    this.#options = options;
  }

  /** The HMAC digest that keys an account's index items and tombstone. */
  digestOf(ref: AccountRef): string {
    return createHmac('sha256', this.#options.erasureKey).update(`${typeOf(ref)}\u0000${ref.account}`).digest('base64url');
  }

  // ---- token intents ----------------------------------------------------------------------

  /** Records a sign-in: `ref` becomes the token's account of its account type. */
  recordSignIn(key: TokenKey, ref: AccountRef, options: { claim: boolean; floor?: number }): Promise<WriteResult> {
    const name = `${ENTRY_PREFIX}${typeOf(ref)}`;
    return this.#writeIntent(key, options, (v, now) => ({
      set: `#e = :entry`,
      names: { '#e': name },
      values: { ':entry': { a: ref.account, v, s: now } },
    }));
  }

  /** Records a sign-out: every account on the token is void from this version on. */
  recordSignOut(key: TokenKey, options: { claim: boolean; floor?: number }): Promise<WriteResult> {
    return this.#writeIntent(key, options, (v) => ({ set: 'clearV = :v', names: {}, values: { ':v': v } }));
  }

  /**
   * One conditional write that versions the operation above everything stored on the token and,
   * with `claim`, takes the push lease if it is free. A version conflict (another container's
   * clock, or a concurrent write) is retried above the stored version; a held lease is reported
   * by writing without it.
   */
  async #writeIntent(
    key: TokenKey,
    options: { claim: boolean; floor?: number },
    change: (v: number, now: string) => { set: string; names: Record<string, string>; values: Record<string, unknown> },
  ): Promise<WriteResult> {
    let floor = options.floor ?? 0;
    let claim = options.claim;
    for (let round = 0; round < 8; round++) {
      const v = nextVersion(floor);
      const now = new Date().toISOString();
      const lease: Lease = { until: Date.now() + LEASE_MS, by: randomUUID() };
      const { set, names, values } = change(v, now);
      try {
        const item = await this.#update({
          Key: { pk: tokenPk(key), sk: TOKEN_SK },
          UpdateExpression: `SET ${set}, v = :v, st = :pending, stV = :v, stAt = :now, att = :zero, uS = :us, uAt = :nowMs${claim ? ', lu = :lu, lb = :lb' : ''}`,
          ConditionExpression: `(attribute_not_exists(v) OR v < :v)${claim ? ' AND (attribute_not_exists(lu) OR lu < :nowMs)' : ''}`,
          ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
          ExpressionAttributeValues: {
            ...values,
            ':v': v,
            ':pending': 'pending',
            ':now': now,
            ':zero': 0,
            ':us': unsettledShard(v),
            ':nowMs': Date.now(),
            ...(claim ? { ':lu': lease.until, ':lb': lease.by } : {}),
          },
        });
        return claim ? { record: toRecord(item), lease } : { record: toRecord(item) };
      } catch (error) {
        if (!isConditionFailure(error)) unavailable(error);
        const current = await this.getToken(key);
        if (current && current.v >= v) floor = current.v;
        else if (claim) claim = false; // the lease is held: record the intent anyway, the holder or a queued push sends it
      }
    }
    throw new LedgerUnavailableError('The intent ledger kept refusing the write (version contention)');
  }

  /**
   * Records a sign-in accepted earlier at version `v` (it could not be recorded then). False when a
   * newer operation on the token is already recorded: the old sign-in is superseded.
   */
  async recordPendingSignIn(key: TokenKey, ref: AccountRef, v: number): Promise<boolean> {
    try {
      await this.#update({
        Key: { pk: tokenPk(key), sk: TOKEN_SK },
        UpdateExpression: 'SET #e = :entry, v = :v, st = :pending, stV = :v, stAt = :now, att = :zero, uS = :us, uAt = :nowMs',
        ConditionExpression: 'attribute_not_exists(v) OR v < :v',
        ExpressionAttributeNames: { '#e': `${ENTRY_PREFIX}${typeOf(ref)}` },
        ExpressionAttributeValues: {
          ':entry': { a: ref.account, v, s: new Date(Math.floor(v / 1000)).toISOString() },
          ':v': v,
          ':pending': 'pending',
          ':now': new Date().toISOString(),
          ':zero': 0,
          ':us': unsettledShard(v),
          ':nowMs': Date.now(),
        },
      });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return unavailable(error);
    }
  }

  async getToken(key: TokenKey): Promise<TokenRecord | undefined> {
    const item = await this.#get({ pk: tokenPk(key), sk: TOKEN_SK });
    return item ? toRecord(item) : undefined;
  }

  /**
   * Strongly consistent reads of many tokens, by tokenKeyId. `parallel`: the BatchGetItem calls
   * at once (within LEDGER_CONCURRENCY), for a bulk's thousands of keys; otherwise one after another.
   */
  async getTokens(keys: readonly TokenKey[], options: { parallel?: boolean } = {}): Promise<Map<string, TokenRecord>> {
    const items = await this.#batchGet(keys.map((key) => ({ pk: tokenPk(key), sk: TOKEN_SK })), options.parallel);
    return new Map(items.map((item) => {
      const record = toRecord(item);
      return [tokenKeyId(record), record];
    }));
  }

  /**
   * What a push needs right before it sends, in one strongly consistent BatchGetItem: the tokens'
   * records and the tombstones of the accounts named (tombstones by digest).
   */
  async readForPush(keys: readonly TokenKey[], refs: readonly AccountRef[]): Promise<{ records: Map<string, TokenRecord>; tombstones: Map<string, Tombstone> }> {
    const digests = [...new Set(refs.map((ref) => this.digestOf(ref)))];
    const items = await this.#batchGet([...keys.map((key) => ({ pk: tokenPk(key), sk: TOKEN_SK })), ...digests.map((digest) => ({ pk: `E#${digest}`, sk: '#' }))]);
    const records = new Map<string, TokenRecord>();
    const tombstones = new Map<string, Tombstone>();
    for (const item of items) {
      if ((item.pk as string).startsWith('T#')) {
        const record = toRecord(item);
        records.set(tokenKeyId(record), record);
      } else if (isLive(item)) {
        const tombstone = toTombstone(item);
        tombstones.set(tombstone.digest, tombstone);
      }
    }
    return { records, tombstones };
  }

  /**
   * Runs `reads` (calls of this ledger) and says when the first DynamoDB request among them left
   * this process, past its wait for LEDGER_CONCURRENCY: nothing they read is older than that, so
   * a send window decided from them counts from there, not from a wait in this process. Without
   * any request, from when `reads` started.
   */
  async timed<T>(reads: () => Promise<T>): Promise<{ value: T; sentAt: number }> {
    const clock = { at: Number.POSITIVE_INFINITY };
    const started = Date.now();
    const value = await firstSend.run(clock, reads);
    return { value, sentAt: Number.isFinite(clock.at) ? clock.at : started };
  }

  /** Takes the token's push lease; undefined when another holder has it (or the token has no record). */
  async claim(key: TokenKey): Promise<(WriteResult & { lease: Lease }) | undefined> {
    const lease: Lease = { until: Date.now() + LEASE_MS, by: randomUUID() };
    try {
      const item = await this.#update({
        Key: { pk: tokenPk(key), sk: TOKEN_SK },
        // Work on the key moved: the sweep leaves it alone for a while (uAt indexes only with uS).
        UpdateExpression: 'SET lu = :lu, lb = :lb, uAt = :nowMs',
        ConditionExpression: 'attribute_exists(v) AND (attribute_not_exists(lu) OR lu < :nowMs)',
        ExpressionAttributeValues: { ':lu': lease.until, ':lb': lease.by, ':nowMs': Date.now() },
      });
      return { record: toRecord(item), lease };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      return unavailable(error);
    }
  }

  /**
   * The leases of several tokens, claimed side by side, in the keys' order. If any claim fails,
   * the leases taken are given back before the failure is thrown: whoever tries next need not
   * wait out LEASE_MS for leases nobody uses.
   */
  async claimAll(keys: readonly TokenKey[]): Promise<((WriteResult & { lease: Lease }) | undefined)[]> {
    const settled = await Promise.allSettled(keys.map((key) => this.claim(key)));
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    const claims = settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : undefined));
    if (!failed) return claims;
    // Best effort: a lease that cannot be given back runs out by itself.
    await Promise.allSettled(claims.map((claim) => claim && this.release(claim.record, claim.lease)));
    throw failed.reason;
  }

  /**
   * Gives the lease back. `pushedV` is the version whose intent was sent: the state becomes
   * `state` only if no newer intent was recorded meanwhile (that one is still pending).
   */
  async release(key: TokenKey, lease: Lease, outcome?: { pushedV: number; state: DeviceState }): Promise<void> {
    const base = { Key: { pk: tokenPk(key), sk: TOKEN_SK } };
    try {
      if (outcome) {
        try {
          await this.#update({
            ...base,
            // Drift (refused for good) is dead-lettered: out of the sweep's index. Applied stays
            // in it until its read-back verifies it (the claim before this push noted the move).
            UpdateExpression: `SET st = :st, stV = :pv, stAt = :now REMOVE ${settles(outcome.state) ? 'uS, uAt, ' : ''}lu, lb`,
            ConditionExpression: 'lb = :lb AND v = :pv',
            ExpressionAttributeValues: { ':st': outcome.state, ':pv': outcome.pushedV, ':now': new Date().toISOString(), ':lb': lease.by },
          });
          return;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      await this.#update({ ...base, UpdateExpression: 'REMOVE lu, lb', ConditionExpression: 'lb = :lb', ExpressionAttributeValues: { ':lb': lease.by } });
    } catch (error) {
      // Lost (expired and taken) or never ours: nothing to give back.
      if (isConditionFailure(error)) return;
      unavailable(error);
    }
  }

  /** A read-back's verdict on version `v`; ignored when a newer intent exists or a push is under way. */
  async markVerdict(key: TokenKey, v: number, verdict: { state: DeviceState; attempts: number }): Promise<boolean> {
    try {
      await this.#update({
        Key: { pk: tokenPk(key), sk: TOKEN_SK },
        UpdateExpression: `SET st = :st, stV = :v, stAt = :now, att = :att${settles(verdict.state) ? ' REMOVE uS, uAt' : ''}`,
        ConditionExpression: 'v = :v AND (attribute_not_exists(lu) OR lu < :nowMs)',
        ExpressionAttributeValues: { ':st': verdict.state, ':v': v, ':now': new Date().toISOString(), ':att': verdict.attempts, ':nowMs': Date.now() },
      });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return unavailable(error);
    }
  }

  /**
   * Removes the entry of an erased account from a token (no plaintext of it stays), unless a
   * newer sign-in replaced it. Refused while a push holds the token's lease: `'leased'`.
   */
  async removeErasedEntry(key: TokenKey, ref: AccountRef, deletionV: number): Promise<'removed' | 'kept' | 'leased'> {
    // A refusal is re-read: a push may have released the lease in between, then it is tried again.
    for (let round = 0; round < 3; round++) {
      try {
        await this.#update({
          Key: { pk: tokenPk(key), sk: TOKEN_SK },
          UpdateExpression: 'REMOVE #e',
          ConditionExpression: '#e.a = :a AND #e.v < :dv AND (attribute_not_exists(lu) OR lu < :nowMs)',
          ExpressionAttributeNames: { '#e': `${ENTRY_PREFIX}${typeOf(ref)}` },
          ExpressionAttributeValues: { ':a': ref.account, ':dv': deletionV, ':nowMs': Date.now() },
        });
        return 'removed';
      } catch (error) {
        if (!isConditionFailure(error)) return unavailable(error);
        const record = await this.getToken(key);
        const entry = record?.entries.find((candidate) => candidate.accountType === typeOf(ref));
        if (entry === undefined || entry.account !== ref.account || entry.v >= deletionV) return 'kept';
        if (record?.lease && record.lease.until >= Date.now()) return 'leased';
      }
    }
    return 'leased';
  }

  // ---- the unsettled index ------------------------------------------------------------------

  /**
   * Tokens not verified yet, and erasures not settled, whose work last moved before `beforeMs`, up
   * to `limit` together (the index is eventually consistent: something settled a moment ago may
   * still be listed, which costs one harmless push).
   */
  async unsettledBefore(beforeMs: number, limit: number): Promise<UnsettledListing> {
    const pks: string[] = [];
    for (let shard = 0; shard < UNSETTLED_SHARDS && pks.length < limit; shard++) {
      const items = await this.#query({
        IndexName: UNSETTLED_INDEX,
        KeyConditionExpression: 'uS = :us AND uAt < :before',
        ExpressionAttributeValues: { ':us': shardKey(shard), ':before': beforeMs },
        limit: limit - pks.length,
      });
      for (const item of items) pks.push(item.pk as string);
    }
    const tokens = pks.filter((pk) => pk.startsWith('T#')).map(keyOfPk);
    // The index holds keys only: the seals are read from the tombstones themselves (settled since: no seal, skipped).
    const tombstones = await this.#batchGet(pks.filter((pk) => pk.startsWith('E#')).map((pk) => ({ pk, sk: '#' })));
    const seal = tombstones.length > 0 ? await this.#sealer() : undefined;
    const erasures: AccountRef[] = [];
    let unopened = 0;
    for (const item of tombstones) {
      if (!seal || typeof item.sa !== 'string' || !isLive(item)) continue;
      // One seal that does not open (ERASURE_KEY changed, the item altered) must not stop the sweep for everything else.
      const ref = seal.tryOpen(item.sa, (item.pk as string).slice(2));
      if (ref) erasures.push(ref);
      else unopened += 1;
    }
    return { tokens, erasures, listed: pks.length, unopened };
  }

  /**
   * Notes that work on these unsettled tokens and erasures moved now: the sweep queued them, or
   * the worker took erasures up (a token's claim notes it for tokens).
   */
  async touchUnsettled(work: UnsettledWork): Promise<void> {
    const pks = [...work.tokens.map(tokenPk), ...work.erasures.map((ref) => `E#${this.digestOf(ref)}`)];
    await Promise.all(
      pks.map(async (pk) => {
        try {
          await this.#update({
            // Tokens and tombstones share the sort key.
            Key: { pk, sk: TOKEN_SK },
            UpdateExpression: 'SET uAt = :nowMs',
            ConditionExpression: 'attribute_exists(uS)',
            ExpressionAttributeValues: { ':nowMs': Date.now() },
          });
        } catch (error) {
          if (!isConditionFailure(error)) unavailable(error);
        }
      }),
    );
  }

  // ---- account index ----------------------------------------------------------------------

  /** Notes that `ref` was bound on these tokens (idempotent hints for reading an account's devices). */
  async indexAccount(entries: readonly { ref: AccountRef; key: TokenKey }[]): Promise<void> {
    await this.#batchWrite(entries.map(({ ref, key }) => ({ PutRequest: { Item: { pk: `I#${this.digestOf(ref)}`, sk: tokenPk(key) } } })));
  }

  /** Every token the account was ever indexed on (some may have moved on: check their records). */
  async tokensOfAccount(ref: AccountRef): Promise<TokenKey[]> {
    const items = await this.#query({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `I#${this.digestOf(ref)}` }, ConsistentRead: true });
    return items.map((item) => keyOfPk(item.sk as string));
  }

  async forgetAccountIndex(ref: AccountRef, keys: readonly TokenKey[]): Promise<void> {
    const pk = `I#${this.digestOf(ref)}`;
    await this.#batchWrite(keys.map((key) => ({ DeleteRequest: { Key: { pk, sk: tokenPk(key) } } })));
  }

  // ---- tombstones -------------------------------------------------------------------------

  /** Records an account deletion (a repeated deletion renews the receipt with a newer version). */
  async recordDeletion(ref: AccountRef, platforms: readonly Platform[], options: { floor?: number } = {}): Promise<Tombstone> {
    const apps = Object.fromEntries(platforms.map((platform) => [platform, {}]));
    const digest = this.digestOf(ref);
    const seal = await this.#sealer();
    let floor = options.floor ?? 0;
    for (let round = 0; round < 8; round++) {
      const v = nextVersion(floor);
      try {
        const item = await this.#update({
          Key: { pk: `E#${digest}`, sk: '#' },
          // Unsettled until verified: the sweep can push it again from the seal if its queued work is lost.
          UpdateExpression: 'SET v = :v, #at = :at, apps = :apps, expiresAt = :exp, sa = :sa, uS = :us, uAt = :nowMs',
          ConditionExpression: 'attribute_not_exists(v) OR v < :v',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: {
            ':v': v,
            ':at': new Date().toISOString(),
            ':apps': apps,
            ':exp': Math.floor(Date.now() / 1000) + this.#options.retentionDays * 86_400,
            ':sa': seal.seal(ref, digest),
            ':us': unsettledShard(v),
            ':nowMs': Date.now(),
          },
        });
        return toTombstone(item);
      } catch (error) {
        if (!isConditionFailure(error)) unavailable(error);
        floor = (await this.getTombstone(ref))?.v ?? v;
      }
    }
    throw new LedgerUnavailableError('The intent ledger kept refusing the deletion (version contention)');
  }

  async getTombstone(ref: AccountRef): Promise<Tombstone | undefined> {
    const item = await this.#get({ pk: `E#${this.digestOf(ref)}`, sk: '#' });
    return item && isLive(item) ? toTombstone(item) : undefined;
  }

  /** Tombstones of many accounts, by digest. */
  async getTombstones(refs: readonly AccountRef[]): Promise<Map<string, Tombstone>> {
    const digests = [...new Set(refs.map((ref) => this.digestOf(ref)))];
    const items = (await this.#batchGet(digests.map((digest) => ({ pk: `E#${digest}`, sk: '#' })))).filter(isLive);
    return new Map(items.map((item) => {
      const tombstone = toTombstone(item);
      return [tombstone.digest, tombstone];
    }));
  }

  /** Notes that op 5 was accepted (`appliedAt`) or read back empty (`verifiedAt`) on one app, for deletion `v`. */
  async markErasure(ref: AccountRef, v: number, platform: Platform, field: 'appliedAt' | 'verifiedAt'): Promise<void> {
    try {
      await this.#update({
        Key: { pk: `E#${this.digestOf(ref)}`, sk: '#' },
        UpdateExpression: 'SET apps.#p.#f = :at',
        ConditionExpression: 'v = :v',
        ExpressionAttributeNames: { '#p': platform, '#f': field },
        ExpressionAttributeValues: { ':at': new Date().toISOString(), ':v': v },
      });
    } catch (error) {
      // A newer deletion of the same account renewed the receipt: it tracks its own progress.
      if (isConditionFailure(error)) return;
      unavailable(error);
    }
  }

  /**
   * Deletion `v` is verified on every app, or dead-lettered: nothing is left for the sweep, so the
   * sealed account goes and only the HMAC-keyed receipt stays.
   */
  async settleErasure(ref: AccountRef, v: number): Promise<void> {
    try {
      await this.#update({
        Key: { pk: `E#${this.digestOf(ref)}`, sk: '#' },
        UpdateExpression: 'REMOVE sa, uS, uAt',
        ConditionExpression: 'v = :v',
        ExpressionAttributeValues: { ':v': v },
      });
    } catch (error) {
      // Renewed by a newer deletion, which settles itself.
      if (isConditionFailure(error)) return;
      unavailable(error);
    }
  }

  // ---- plumbing ---------------------------------------------------------------------------

  #sealer(): Promise<AccountSeal> {
    this.#seal ??= import('./sealed-account.js').then(({ AccountSeal: Seal }) => new Seal(this.#options.erasureKey));
    return this.#seal;
  }

  #client(): Promise<Connection> {
    this.#connection ??= Promise.all([import('@aws-sdk/client-dynamodb'), import('@aws-sdk/util-dynamodb'), import('../config/sdk-client.js')]).then(([sdk, codec, { SDK_CLIENT_OPTIONS, withoutSdkLogging }]) => {
      // SDK_CLIENT_OPTIONS caches resolved middleware: the changes below are on the client, before any send.
      const client = withoutSdkLogging(new sdk.DynamoDBClient({ ...SDK_CLIENT_OPTIONS, ...(this.#options.maxAttempts ? { maxAttempts: this.#options.maxAttempts } : {}) }));
      const limit = pLimit(LEDGER_CONCURRENCY);
      client.middlewareStack.add((next) => (args) => limit(() => next(args)), { step: 'initialize', name: 'ledgerConcurrency' });
      // 'build' comes after 'initialize': the request has its slot and is about to leave (timed()).
      client.middlewareStack.add(
        (next) => (args) => {
          const clock = firstSend.getStore();
          if (clock) clock.at = Math.min(clock.at, Date.now());
          return next(args);
        },
        { step: 'build', name: 'ledgerFirstSend' },
      );
      return { sdk, codec, client };
    });
    return this.#connection;
  }

  async #get(key: Item): Promise<Item | undefined> {
    const { sdk, codec, client } = await this.#client();
    try {
      const { Item } = await client.send(new sdk.GetItemCommand({ TableName: this.tableName, Key: codec.marshall(key), ConsistentRead: true }));
      return Item ? codec.unmarshall(Item) : undefined;
    } catch (error) {
      return unavailable(error);
    }
  }

  async #update(input: UpdateInput): Promise<Item> {
    const { sdk, codec, client } = await this.#client();
    const { Key, ExpressionAttributeValues, ...expressions } = input;
    const answer = await client.send(
      new sdk.UpdateItemCommand({
        ...expressions,
        TableName: this.tableName,
        Key: codec.marshall(Key),
        ...(ExpressionAttributeValues ? { ExpressionAttributeValues: codec.marshall(ExpressionAttributeValues, MARSHALL_OPTIONS) } : {}),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return answer.Attributes ? codec.unmarshall(answer.Attributes) : {};
  }

  async #query(input: QueryInput): Promise<Item[]> {
    const { sdk, codec, client } = await this.#client();
    const { limit, ExpressionAttributeValues, ...query } = input;
    const items: Item[] = [];
    let start: WireItem | undefined;
    try {
      do {
        const page = await client.send(
          new sdk.QueryCommand({
            ...query,
            TableName: this.tableName,
            ExpressionAttributeValues: codec.marshall(ExpressionAttributeValues),
            ...(limit === undefined ? {} : { Limit: limit - items.length }),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) items.push(codec.unmarshall(item));
        start = page.LastEvaluatedKey;
      } while (start && (limit === undefined || items.length < limit));
    } catch (error) {
      unavailable(error);
    }
    return items;
  }

  async #batchGet(keys: readonly Item[], parallel = false): Promise<Item[]> {
    const { sdk, codec, client } = await this.#client();
    const call = async (chunk: readonly Item[]): Promise<Item[]> => {
      const found: Item[] = [];
      await untilProcessed('keys of a BatchGetItem', chunk.map((key) => codec.marshall(key)), async (pending) => {
        const answer = await client.send(new sdk.BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of answer.Responses?.[this.tableName] ?? []) found.push(codec.unmarshall(item));
        return answer.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      });
      return found;
    };
    const chunks: Item[][] = [];
    for (let start = 0; start < keys.length; start += MAX_BATCH_GET) chunks.push(keys.slice(start, start + MAX_BATCH_GET));
    try {
      if (parallel) return (await Promise.all(chunks.map(call))).flat();
      const found: Item[] = [];
      for (const chunk of chunks) found.push(...(await call(chunk)));
      return found;
    } catch (error) {
      return unavailable(error);
    }
  }

  /** Puts and deletes, `{ PutRequest: { Item } }` / `{ DeleteRequest: { Key } }` with plain values. */
  async #batchWrite(requests: readonly ({ PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } })[]): Promise<void> {
    if (requests.length === 0) return;
    const { sdk, codec, client } = await this.#client();
    const wire = requests.map((request): WriteRequest =>
      'PutRequest' in request ? { PutRequest: { Item: codec.marshall(request.PutRequest.Item, MARSHALL_OPTIONS) } } : { DeleteRequest: { Key: codec.marshall(request.DeleteRequest.Key) } },
    );
    try {
      for (let start = 0; start < wire.length; start += MAX_BATCH_WRITE) {
        await untilProcessed('items of a BatchWriteItem', wire.slice(start, start + MAX_BATCH_WRITE), async (pending) => {
          const answer = await client.send(new sdk.BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
          return answer.UnprocessedItems?.[this.tableName] ?? [];
        });
      }
    } catch (error) {
      unavailable(error);
    }
  }
}
