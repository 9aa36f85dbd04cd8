/**
 * The queue scenarios, each through the real path (handler -> fauxqs -> worker -> emulator),
 * counting the TPNS calls the emulator received against the physical minimum.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { queueWork } from '../lib/commands/work.js';
import { SqsWorkQueue } from '../lib/queue/sqs-work-queue.js';
import { MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL } from '../lib/tpns/constants.js';
import { PLATFORMS } from '../lib/tpns/types.js';
import type { Binding, Platform } from '../lib/tpns/types.js';
import type { BenchStack, Workers } from './stack.js';

export interface CallTally {
  /** batchoperate calls the emulator received. */
  calls: number;
  /** sum over platforms of ceil(items / 20): one full call per 20 items. */
  minimum: number;
  /** Items TPNS applied (answered "0"). */
  applied: number;
  /** From the first request until TPNS applied the last item (ms). */
  elapsedMs: number;
  /** From the first request until the last one was answered (queued: 202) (ms). */
  acceptedMs: number;
}

export interface Device extends Binding {
  platform: Platform;
}

/** Items TPNS processed per platform in one call at most. */
const PER_CALL = MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL;
/** A scenario that has not finished by then is stuck, not slow. */
const SCENARIO_TIMEOUT_MS = 300_000;
/** How often the emulator's counters are read while a scenario runs (each read is an HTTP call). */
const COUNTER_POLL_MS = 5;
/** Sign-ins queued at once by the burst (separate requests, as separate Lambda invocations would). */
const BURST_SENDERS = 50;

export const minimumCalls = (itemsPerPlatform: Partial<Record<Platform, number>>): number =>
  Object.values(itemsPerPlatform).reduce((sum, items) => sum + Math.ceil(items / PER_CALL), 0);

/** `count` fresh devices (TPNS-like 36-character tokens), alternating between `platforms`. */
export function devices(count: number, run: number, platforms: readonly Platform[] = PLATFORMS): Device[] {
  return Array.from({ length: count }, (_, index) => ({
    token: randomUUID(),
    account: `user-${run}-${index}`,
    platform: platforms[index % platforms.length] as Platform,
  }));
}

const perPlatform = (items: readonly { platform: Platform }[]): Partial<Record<Platform, number>> => {
  const counts: Partial<Record<Platform, number>> = {};
  for (const { platform } of items) counts[platform] = (counts[platform] ?? 0) + 1;
  return counts;
};

/**
 * Runs `act`, then waits until TPNS has applied `expected` more items and the queue is drained;
 * throws if any item is missing (a benchmark of lost work would be meaningless).
 */
async function measure(stack: BenchStack, workers: Workers, expected: number, minimum: number, act: () => Promise<void>): Promise<CallTally> {
  const before = await stack.emulator.counters();
  const started = performance.now();
  await act();
  const acceptedMs = performance.now() - started;
  for (;;) {
    const applied = (await stack.emulator.counters()).itemsApplied - before.itemsApplied;
    if (applied >= expected) break;
    if (performance.now() - started > SCENARIO_TIMEOUT_MS) throw new Error(`only ${applied} of ${expected} items applied after ${SCENARIO_TIMEOUT_MS} ms`);
    await sleep(COUNTER_POLL_MS);
  }
  const elapsedMs = performance.now() - started;
  await workers.drained();
  const after = await stack.emulator.counters();
  const calls = (after.byPath['/v3/device/account/batchoperate'] ?? 0) - (before.byPath['/v3/device/account/batchoperate'] ?? 0);
  const applied = after.itemsApplied - before.itemsApplied;
  if (applied !== expected) throw new Error(`${applied} items applied, expected ${expected}`);
  if (after.itemsFailed !== before.itemsFailed) throw new Error(`${after.itemsFailed - before.itemsFailed} items failed at TPNS`);
  return { calls, minimum, applied, elapsedMs, acceptedMs };
}

/** 202: queued in chunks; 200: small enough to be applied within the request (tiny runs). */
function expectAccepted(answer: { statusCode: number; body: unknown }, what: string): void {
  if (answer.statusCode !== 202 && answer.statusCode !== 200) throw new Error(`${what} answered ${answer.statusCode}: ${JSON.stringify(answer.body)}`);
}

/** POST /v1/admin/bindings with every device in one request (202, queued in chunks). */
export function bulkBind(stack: BenchStack, workers: Workers, items: readonly Device[]): Promise<CallTally> {
  return measure(stack, workers, items.length, minimumCalls(perPlatform(items)), async () => {
    const answer = await stack.call('login', 'POST /v1/admin/bindings', { account: 'bench-admin', admin: true, body: { items } });
    expectAccepted(answer, 'bulk bind');
  });
}

/** POST /v1/admin/unbind-tokens, one request per platform. */
export function bulkUnbind(stack: BenchStack, workers: Workers, items: readonly Device[]): Promise<CallTally> {
  const byPlatform = PLATFORMS.map((platform) => ({ platform, tokens: items.filter((item) => item.platform === platform).map((item) => item.token) }));
  return measure(stack, workers, items.length, minimumCalls(perPlatform(items)), async () => {
    for (const { platform, tokens } of byPlatform.filter((entry) => entry.tokens.length > 0)) {
      const answer = await stack.call('logout', 'POST /v1/admin/unbind-tokens', { account: 'bench-admin', admin: true, body: { platform, tokens } });
      expectAccepted(answer, 'bulk unbind');
    }
  });
}

/** POST /v1/admin/delete-accounts: op 5 on both apps, so 2 items per account. */
export function bulkDeleteAccounts(stack: BenchStack, workers: Workers, count: number, run: number): Promise<CallTally> {
  const accounts = Array.from({ length: count }, (_, index) => ({ account: `deleted-${run}-${index}` }));
  const platforms = stack.emulator.env.TPNS_IOS_ACCESS_ID ? PLATFORMS.length : 1;
  return measure(stack, workers, count * platforms, minimumCalls({ android: count, ios: count }), async () => {
    const answer = await stack.call('delete-account', 'POST /v1/admin/delete-accounts', { account: 'bench-admin', admin: true, body: { accounts } });
    expectAccepted(answer, 'bulk delete');
  });
}

/**
 * Single-token sign-ins queued one request each (the handlers' queueing path: one message per
 * sign-in in the token's FIFO group), `BURST_SENDERS` at once. With `backlog`, the workers are
 * paused meanwhile and resumed after (the burst waited in the queue, e.g. while TPNS throttled);
 * otherwise they poll while the burst arrives.
 */
export function signInBurst(stack: BenchStack, workers: Workers, items: readonly Device[], options: { backlog: boolean }): Promise<CallTally> {
  const queue = new SqsWorkQueue({ queueUrl: stack.sqs.queueUrl, endpoint: stack.sqs.endpoint, region: 'us-east-1' });
  const limit = pLimit(BURST_SENDERS);
  return measure(stack, workers, items.length, minimumCalls(perPlatform(items)), async () => {
    if (options.backlog) await workers.pause();
    await Promise.all(
      items.map(({ platform, ...binding }) =>
        limit(() => queueWork(queue, [{ kind: 'bind', platform, items: [binding] }], { correlationId: randomUUID() })),
      ),
    );
    workers.resume();
  });
}

/**
 * Sign-ins with TPNS healthy, through the login handler (`PUT /v1/me/devices/{token}`),
 * `BURST_SENDERS` at once while the workers poll: each is applied directly (200) and its
 * confirming copy queued in the token's group, which the worker applies again. `applied` counts
 * both (2 per sign-in); `calls` is the direct calls plus the worker's confirmation calls.
 */
export function directSignIns(stack: BenchStack, workers: Workers, items: readonly Device[]): Promise<CallTally> {
  const limit = pLimit(BURST_SENDERS);
  return measure(stack, workers, 2 * items.length, items.length, async () => {
    await Promise.all(
      items.map(({ platform, token, account }) =>
        limit(async () => {
          const answer = await stack.call('login', 'PUT /v1/me/devices/{token}', { account, pathParameters: { token }, body: { platform } });
          if (answer.statusCode !== 200) throw new Error(`sign-in answered ${answer.statusCode}: ${JSON.stringify(answer.body)}`);
        }),
      ),
    );
  });
}

/**
 * Resumes paused workers and waits until they have applied `confirmations` queued copies (the
 * warm sign-ins', queued while the workers were paused so the worker did not share the 2 cores
 * with the handler being timed); the tally's `calls` are the worker's alone.
 */
export function drainConfirmations(stack: BenchStack, workers: Workers, confirmations: number, platform: Platform): Promise<CallTally> {
  return measure(stack, workers, confirmations, minimumCalls({ [platform]: confirmations }), () => {
    workers.resume();
    return Promise.resolve();
  });
}
