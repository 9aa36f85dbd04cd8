/**
 * The adversarial driver: simulated users call the real handlers in-process (HTTP API events
 * and EventBridge events), each waiting only for its own answer, while the worker runs
 * concurrently with random pick-up delays. What the users did (start, answer, status) is the
 * history the model (model.ts) turns into the expected state and the G1/G2 figures.
 *
 * The one rule that makes the expected state exact: an operation starts only after every
 * conflicting operation started before it was answered (Locks). Operations conflict when they
 * act on the same token, or when one deletes an account the other binds. Nothing else is
 * ordered: other users, the worker, TPNS and the ledger run freely.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, SQSEvent } from 'aws-lambda';
import { handler as deleteAccount } from '../../../functions/delete-account.js';
import { handler as login } from '../../../functions/login.js';
import { handler as logout } from '../../../functions/logout.js';
import { handler as query } from '../../../functions/query.js';
import type { EventSource } from '../../../local/sqs/event-source.js';
import { seededRandom } from '../../../local/seeded-random.js';
import type { FaultKind } from '../../../local/tpns-emulator/index.js';
import { httpEvent, invokeHttp, lambdaContext } from '../../integration/functions/harness.js';
import type { HttpRequest, HttpResult } from '../../integration/functions/harness.js';
import { accountEvent, ADMIN_SCOPE } from './drive.js';
import type { AccountKey, Device, OpRecord, OpSpec, Platform } from './model.js';
import type { SqsFaultProxy } from './sqs-fault-proxy.js';
import type { ReliabilityStack } from './stack.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

// ---- locks ----------------------------------------------------------------------------------

type Mode = 'x' | 's';
interface Want {
  keys: readonly (readonly [string, Mode])[];
  grant: () => void;
}

/**
 * Shared/exclusive locks on keys, granted all at once (no deadlock) and first come first served
 * (an operation waiting for a key holds back later operations on it: no starvation of bulks).
 */
export class Locks {
  readonly #held = new Map<string, { x: number; s: number }>();
  #queue: Want[] = [];

  acquire(keys: readonly (readonly [string, Mode])[]): Promise<() => void> {
    return new Promise((resolve) => {
      this.#queue.push({
        keys,
        grant: () =>
          resolve(() => {
            for (const [key, mode] of keys) {
              const held = this.#held.get(key)!;
              held[mode] -= 1;
              if (held.x === 0 && held.s === 0) this.#held.delete(key);
            }
            this.#pump();
          }),
      });
      this.#pump();
    });
  }

  #pump(): void {
    const reserved = new Map<string, { x: number; s: number }>();
    const free = (key: string, mode: Mode, table: Map<string, { x: number; s: number }>) => {
      const entry = table.get(key);
      if (!entry) return true;
      return mode === 's' ? entry.x === 0 : entry.x === 0 && entry.s === 0;
    };
    const add = (table: Map<string, { x: number; s: number }>, key: string, mode: Mode) => {
      const entry = table.get(key) ?? { x: 0, s: 0 };
      entry[mode] += 1;
      table.set(key, entry);
    };
    const waiting: Want[] = [];
    for (const want of this.#queue) {
      if (want.keys.every(([key, mode]) => free(key, mode, this.#held) && free(key, mode, reserved))) {
        for (const [key, mode] of want.keys) add(this.#held, key, mode);
        want.grant();
      } else {
        for (const [key, mode] of want.keys) add(reserved, key, mode);
        waiting.push(want);
      }
    }
    this.#queue = waiting;
  }
}

const tokenKey = (device: Device) => `t:${device.platform}:${device.token}`;
const accountKey = (user: AccountKey) => `a:${user.accountType}:${user.account}`;

/** Tokens an operation changes (exclusive), accounts it binds (shared) or deletes (exclusive). */
export function lockKeys(spec: OpSpec): (readonly [string, Mode])[] {
  const keys = new Map<string, Mode>();
  const put = (key: string, mode: Mode) => keys.set(key, keys.get(key) === 'x' ? 'x' : mode);
  switch (spec.kind) {
    case 'sign-in':
      put(tokenKey(spec.device), 'x');
      put(accountKey(spec.user), 's');
      break;
    case 'sign-out':
      put(tokenKey(spec.device), 'x');
      break;
    case 'delete':
      put(accountKey(spec.user), 'x');
      break;
    case 'bulk-bind':
      for (const { device, user } of spec.items) {
        put(tokenKey(device), 'x');
        put(accountKey(user), 's');
      }
      break;
    case 'bulk-unbind':
      for (const token of spec.tokens) put(tokenKey({ platform: spec.platform, token }), 'x');
      break;
    case 'bulk-delete':
      for (const user of spec.users) put(accountKey(user), 'x');
      break;
  }
  return [...keys];
}

// ---- invoking the handlers -------------------------------------------------------------------

const typeBody = (user: AccountKey) => (user.accountType === 0 ? {} : { accountType: user.accountType });
const typeQuery = (user: AccountKey): Record<string, string> => (user.accountType === 0 ? {} : { accountType: String(user.accountType) });

/** The handler and the event of each attempt: an HTTP retry is a new request, EventBridge re-sends the same event. */
function invocation(spec: OpSpec): { kind: 'http' | 'event'; handler: Handler; event: () => unknown } {
  const http = (handler: Handler, routeKey: string, request: HttpRequest) => ({ kind: 'http' as const, handler, event: () => httpEvent(routeKey, request) });
  const once = (handler: Handler, event: unknown) => ({ kind: 'event' as const, handler, event: () => event });
  const admin = { account: 'adversarial-admin', scope: ADMIN_SCOPE };
  switch (spec.kind) {
    case 'sign-in': {
      const { device, user } = spec;
      if (spec.via === 'event') return once(login, accountEvent('account.login', { account: user.account, token: device.token, platform: device.platform, ...typeBody(user) }));
      return http(login, 'PUT /v1/me/devices/{token}', { account: user.account, pathParameters: { token: device.token }, body: { platform: device.platform, ...typeBody(user) } });
    }
    case 'sign-out': {
      const { device, user } = spec;
      if (spec.via === 'event') return once(logout, accountEvent('account.logout', { account: user.account, token: device.token, platform: device.platform, ...typeBody(user) }));
      return http(logout, 'DELETE /v1/me/devices/{token}', { account: user.account, pathParameters: { token: device.token }, query: { platform: device.platform, ...typeQuery(user) } });
    }
    case 'delete': {
      const { user } = spec;
      if (spec.via === 'event') return once(deleteAccount, accountEvent('account.deleted', { account: user.account, ...typeBody(user) }));
      return http(deleteAccount, 'DELETE /v1/me', { account: user.account, query: typeQuery(user) });
    }
    case 'bulk-bind':
      return http(login, 'POST /v1/admin/bindings', {
        ...admin,
        body: { items: spec.items.map(({ device, user }) => ({ token: device.token, platform: device.platform, account: user.account, ...typeBody(user) })) },
      });
    case 'bulk-unbind':
      return http(logout, 'POST /v1/admin/unbind-tokens', { ...admin, body: { platform: spec.platform, tokens: spec.tokens } });
    case 'bulk-delete':
      return http(deleteAccount, 'POST /v1/admin/delete-accounts', { ...admin, body: { accounts: spec.users.map((user) => ({ account: user.account, ...typeBody(user) })) } });
  }
}

export const devicesOf = (account: AccountKey) =>
  invokeHttp(query, httpEvent('GET /v1/me/devices', { account: account.account, query: typeQuery(account) }));
export const erasureOf = (account: AccountKey) =>
  invokeHttp(query, httpEvent('GET /v1/admin/erasures/{account}', { account: 'adversarial-admin', scope: ADMIN_SCOPE, pathParameters: { account: account.account }, query: typeQuery(account) }));

export interface WorldStats {
  /** Final outcome per operation kind. */
  byKind: Record<string, Record<string, number>>;
  /** Every attempt's answer (`200`, `202`, `503`, `event`, `thrown`). */
  answers: Record<string, number>;
  retries: number;
}

export interface PerformOptions {
  /** Runs while the operation's locks are still held, after it was accepted (read-your-writes checks). */
  afterAccepted?: (record: OpRecord, answer: HttpResult | undefined) => Promise<void>;
}

export class World {
  readonly records: OpRecord[] = [];
  readonly locks = new Locks();
  /** Answers no caller should get (anything but 2xx/503 for valid input); the tests demand none. */
  readonly unexpected: string[] = [];
  readonly stats: WorldStats = { byKind: {}, answers: {}, retries: 0 };
  #ids = 0;
  #answerSeq = 0;

  /** Attempts per operation: a 503 / a thrown event is retried like its caller would (HTTP client with Retry-After, EventBridge). */
  readonly maxAttempts: number;
  /** The share of operations whose caller gives up at the first 503 (one attempt): the refusals that may have been recorded. */
  readonly giveUpRate: number;

  constructor(
    readonly random: () => number,
    { maxAttempts = 6, giveUpRate = 0 }: { maxAttempts?: number; giveUpRate?: number } = {},
  ) {
    this.maxAttempts = maxAttempts;
    this.giveUpRate = giveUpRate;
  }

  /** Waits for the operation's conflicting predecessors, runs it (with its caller's retries), records it. */
  async perform(spec: OpSpec, actor: string, options: PerformOptions = {}): Promise<OpRecord> {
    const release = await this.locks.acquire(lockKeys(spec));
    try {
      const record: OpRecord = { id: ++this.#ids, spec, actor, startedAt: Date.now(), status: 'running', attempts: [] };
      this.records.push(record);
      const { kind, handler, event } = invocation(spec);
      let accepted: HttpResult | undefined;
      // Drawn only when some callers give up, so runs without them keep their sequences.
      const attempts = this.giveUpRate > 0 && this.random() < this.giveUpRate ? 1 : this.maxAttempts;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (attempt > 1) {
          this.stats.retries += 1;
          await sleep(100 + this.random() * 300);
        }
        let outcome: string;
        let http: HttpResult | undefined;
        try {
          if (kind === 'http') {
            http = await invokeHttp(handler, event());
            outcome = String(http.statusCode);
          } else {
            await handler(event(), lambdaContext());
            outcome = 'event';
          }
        } catch (error) {
          if (kind === 'http') throw error; // an HTTP handler answers, it never throws
          outcome = 'thrown';
        }
        const now = Date.now();
        record.attempts.push(outcome);
        // The ledger may have recorded it before the 503 (docs/reliability.md, residual window 4:
        // the queue failing after the write, a lost answer, a bulk recorded in part).
        if (outcome === '503' || outcome === 'thrown') record.maybeRecorded = true;
        this.stats.answers[outcome] = (this.stats.answers[outcome] ?? 0) + 1;
        if (outcome === '200' || outcome === '202' || outcome === 'event') {
          record.answeredAt = now;
          record.answerSeq = ++this.#answerSeq;
          record.status = 'accepted';
          accepted = http;
          break;
        }
        if (outcome !== '503' && outcome !== 'thrown') {
          this.unexpected.push(`${spec.kind} by ${actor}: ${outcome} ${JSON.stringify(http?.body).slice(0, 300)}`);
        }
        if (attempt === attempts || (outcome !== '503' && outcome !== 'thrown')) {
          record.answeredAt = now;
          record.answerSeq = ++this.#answerSeq;
          record.status = 'refused';
          break;
        }
      }
      const tally = (this.stats.byKind[spec.kind] ??= {});
      tally[record.status] = (tally[record.status] ?? 0) + 1;
      if (record.status === 'accepted' && options.afterAccepted) await options.afterAccepted(record, accepted);
      return record;
    } finally {
      release();
    }
  }
}

// ---- the worker and the faults ---------------------------------------------------------------

/** The worker, concurrent with the users: each batch waits a random 0-`maxDelayMs` before it starts (a cold start, a busy poller). */
export function startDelayedWorker(
  stack: ReliabilityStack,
  seed: number,
  options: { maxDelayMs?: number; concurrency?: number; visibilityTimeoutSeconds?: number; via?: { endpoint: string; queueUrl: string } } = {},
): EventSource {
  const random = seededRandom(seed);
  const maxDelay = options.maxDelayMs ?? 600;
  return stack.startWorker({
    concurrency: options.concurrency ?? 3,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 5,
    ...options.via,
    wrap: (real) => async (event: SQSEvent, context) => {
      await sleep(random() * maxDelay);
      return real(event, context);
    },
  });
}

export interface FaultPlan {
  /** TPNS faults by kind and rate (every path: writes and read-backs). */
  tpns: Partial<Record<FaultKind, number>>;
  /** Injected latency (ms): above the client's TPNS_TIMEOUT_MS, so the call times out and TPNS still applies it. */
  latencyMs: number;
  /** The emulator's reordering mode for the run (null: in order). */
  applyWindow: { minMs: number; maxMs: number } | null;
  /** Per-request rates: throttling, HTTP 500, and (BatchGetItem, BatchWriteItem) a batch served in part. */
  dynamo: { throttle: number; internal: number; unprocessed: number };
  sqs: { callFailureRate: number; entryFailureRate: number; outageEveryMs?: number; outageMs?: number };
}

export function injectFaults(stack: ReliabilityStack, sqsProxy: SqsFaultProxy | undefined, plan: FaultPlan, seed: number): () => void {
  // Each rule its own seed: rules drawing the same sequence would always fire together.
  for (const [index, [kind, rate]] of Object.entries(plan.tpns).entries()) {
    if (rate) stack.tpns.injectFault({ kind: kind as FaultKind, rate, seed: seed * 31 + index * 7_919, latencyMs: plan.latencyMs });
  }
  stack.tpns.setApplyWindow(plan.applyWindow ? { ...plan.applyWindow, seed } : null);
  if (plan.dynamo.throttle) stack.dynamo.faults.add({ kind: 'ThrottlingException', probability: plan.dynamo.throttle, seed: seed + 1 });
  if (plan.dynamo.internal) stack.dynamo.faults.add({ kind: 'InternalServerError', probability: plan.dynamo.internal, seed: seed + 2 });
  for (const [index, operation] of (['BatchGetItem', 'BatchWriteItem'] as const).entries()) {
    if (plan.dynamo.unprocessed) stack.dynamo.faults.add({ kind: 'unprocessed', operation, probability: plan.dynamo.unprocessed, seed: seed + 4 + index });
  }
  sqsProxy?.setFaults({ callFailureRate: plan.sqs.callFailureRate, entryFailureRate: plan.sqs.entryFailureRate, seed: seed + 3 });
  const outages =
    sqsProxy && plan.sqs.outageEveryMs ? setInterval(() => sqsProxy.outage(plan.sqs.outageMs ?? 200), plan.sqs.outageEveryMs) : undefined;
  return () => {
    if (outages) clearInterval(outages);
    stack.tpns.clearFaults();
    stack.dynamo.faults.clear();
    sqsProxy?.clear();
  };
}

// ---- the seeded mixed workload ---------------------------------------------------------------

export interface Population {
  users: AccountKey[];
  devices: Device[];
}

/** `users` accounts (the last `typed` of them on account type 1) and `tokens` shared devices, `ios` of them on iOS. */
export function population(prefix: string, counts: { users: number; typed: number; tokens: number; ios: number }): Population {
  const users = Array.from({ length: counts.users }, (_, i) => ({ account: `${prefix}-u${String(i).padStart(2, '0')}`, accountType: i >= counts.users - counts.typed ? 1 : 0 }));
  const devices = Array.from({ length: counts.tokens }, (_, i): Device => {
    const platform: Platform = i < counts.tokens - counts.ios ? 'android' : 'ios';
    return { platform, token: `${prefix.replace(/[^A-Za-z0-9]/g, '')}t${String(i).padStart(2, '0')}${platform === 'android' ? 'a' : 'i'}0123456789abcdef` };
  });
  return { users, devices };
}

export interface MixedOptions {
  world: World;
  population: Population;
  /** State-changing operations to run (queries of the user's own devices come on top). */
  operations: number;
  /** Each user draws its choices from its own PRNG (seed + its index): its sequence of operations does not depend on the others' timing. */
  seed: number;
  /** Think time between a user's operations, ms. */
  thinkMs?: number;
  onProgress?: (done: number) => void;
}

/**
 * Every user in a loop: think 0-150 ms, then sign in on a random shared device, sign out (mostly
 * where it believes it is signed in, sometimes a stale session), delete its account, act as an
 * admin (a bulk), or read its own devices. A sign-in is read back at once (read-your-writes).
 */
export async function runMixed({ world, population: { users, devices }, operations, seed, thinkMs = 150, onProgress }: MixedOptions): Promise<void> {
  let remaining = operations;
  let done = 0;
  const android = devices.filter((device) => device.platform === 'android');

  async function user(me: AccountKey, index: number): Promise<void> {
    const random = seededRandom(seed * 1_000 + index);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
    const sample = <T>(list: readonly T[], n: number): T[] => {
      const copy = [...list];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      }
      return copy.slice(0, n);
    };
    const via = () => (random() < 0.2 ? ('event' as const) : ('http' as const));
    const mine = new Set<Device>();
    while (remaining > 0) {
      await sleep(random() * thinkMs);
      const roll = random();
      if (roll >= 0.8) {
        // A read of the caller's own devices: no state change, never counted.
        const answer = await devicesOf(me);
        if (answer.statusCode !== 200 && answer.statusCode !== 503) world.unexpected.push(`GET /v1/me/devices: ${answer.statusCode}`);
        continue;
      }
      if (remaining <= 0) break;
      remaining -= 1;
      let spec: OpSpec;
      if (roll < 0.42) {
        spec = { kind: 'sign-in', via: via(), device: pick(devices), user: me };
      } else if (roll < 0.66) {
        const device = mine.size > 0 && random() < 0.7 ? pick([...mine]) : pick(devices);
        spec = { kind: 'sign-out', via: via(), device, user: me };
      } else if (roll < 0.77) {
        spec = { kind: 'delete', via: via(), user: me };
      } else {
        const bulk = random();
        if (bulk < 0.5) {
          // Half above one TPNS call per platform (recorded and queued, 202), half pushed directly.
          const targets = random() < 0.5 ? sample(android, between(21, android.length)) : sample(devices, between(3, 15));
          spec = { kind: 'bulk-bind', items: targets.map((device) => ({ device, user: pick(users) })) };
        } else if (bulk < 0.75) {
          const platform: Platform = random() < 0.7 ? 'android' : 'ios';
          const tokens = sample(devices.filter((device) => device.platform === platform), between(2, 25)).map((device) => device.token);
          spec = { kind: 'bulk-unbind', platform, tokens };
        } else {
          spec = { kind: 'bulk-delete', users: sample(users, between(2, 4)) };
        }
      }
      const readBack = spec.kind === 'sign-in' && spec.via === 'http' && random() < 0.3;
      const record = await world.perform(spec, me.account, {
        ...(readBack
          ? {
              afterAccepted: async () => {
                const { device } = spec as Extract<OpSpec, { kind: 'sign-in' }>;
                const answer = await devicesOf(me);
                if (answer.statusCode === 503) return;
                const listed = (answer.body.devices as { platform: string; token: string }[] | undefined) ?? [];
                if (!listed.some((entry) => entry.platform === device.platform && entry.token === device.token)) {
                  world.unexpected.push(`read-your-writes: ${me.account} signed in on ${device.token} but GET /v1/me/devices lists ${JSON.stringify(listed)}`);
                }
              },
            }
          : {}),
      });
      if (record.status === 'accepted') {
        if (spec.kind === 'sign-in') mine.add(spec.device);
        if (spec.kind === 'sign-out') mine.delete(spec.device);
        if (spec.kind === 'delete') mine.clear();
      }
      done += 1;
      onProgress?.(done);
    }
  }

  await Promise.all(users.map((me, index) => user(me, index)));
}
