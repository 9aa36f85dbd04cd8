/**
 * The benchmark's scenarios, each through the real path (handler bundle -> ledger -> fauxqs ->
 * worker containers -> emulator). A scenario runs once per round and returns its samples: the
 * headline figures (keys with a target in ./targets.ts) and details (`<scenario>.<figure>`).
 * The harness runs them, aggregates medians and reports; a scenario only measures. Adding a
 * figure: return it from its scenario, and give it a line in ./targets.ts if it is a headline.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { DIRECT_COOL_DOWN_MS } from '../lib/commands/direct-breaker.js';
import { tokenKeyId } from '../lib/ledger/records.js';
import { keyMessages } from '../lib/queue/messages.js';
import { MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL } from '../lib/tpns/constants.js';
import { PLATFORMS } from '../lib/tpns/types.js';
import type { Platform } from '../lib/tpns/types.js';
import { Bare, bareTargetFromEnv } from './bare.js';
import { Container } from './containers.js';
import type { Invocation } from './containers.js';
import type { BenchOptions } from './options.js';
import { BARE, FUNCTIONS } from './world.js';
import type { ApiAnswer, BenchWorld, CallCounts, FunctionName } from './world.js';

export type Samples = Record<string, number>;

export interface ScenarioContext {
  world: BenchWorld;
  options: BenchOptions;
  /** 1-based. */
  round: number;
  log: (line: string) => void;
}

export interface Scenario {
  /** Its headline figures in ./targets.ts name it: if it fails in every round they are reported missed, with the error. */
  name: string;
  /** How many rounds it takes part in. */
  rounds(options: BenchOptions): number;
  run(context: ScenarioContext): Promise<Samples>;
}

interface Device {
  token: string;
  account: string;
  platform: Platform;
}

/** Items TPNS takes per op 2/3 call, and tokens per query call. */
const PER_CALL = MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL;
/** A scenario that has not finished by then is stuck, not slow. */
const SCENARIO_TIMEOUT_MS = 600_000;
/** The bench measures how long the bulk takes; it does not cut it off at serverless.yml's timeout. */
const BULK_TIMEOUT_SECONDS = 300;
const BULK_ROUTE = 'POST /v1/admin/bindings';
/** Lambda gives a function one vCPU's worth of CPU at 1 769 MB, and a share in proportion below. */
const ONE_VCPU_MEMORY_MB = 1769;

/**
 * CPU time measured on a whole core, stretched to a function's share of one, as a fraction of its
 * timeout. Never shrunk: above 1 769 MB Lambda adds vCPUs, and one JavaScript thread uses one.
 */
const cpuAtMemoryVsTimeout = (cpuMs: number, limits: { memoryMb: number; timeoutSeconds: number }) =>
  (cpuMs * Math.max(1, ONE_VCPU_MEMORY_MB / limits.memoryMb)) / (limits.timeoutSeconds * 1000);
/** Sign-ins sent at once (separate requests, as separate Lambda invocations would be). */
const HEALTHY_SENDERS = 50;
const BURST_SENDERS = 100;
/** Requests before the warm run measures: JIT, connection pools and the runtime cache warm up. */
const WARM_UP = 50;

/** The value below which `p` (0-100) percent of `values` fall (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** `count` fresh devices (TPNS-like 36-character tokens), alternating Android and iOS. */
function devices(count: number, label: string): Device[] {
  return Array.from({ length: count }, (_, index) => ({
    token: randomUUID(),
    account: `${label}-${index}`,
    platform: PLATFORMS[index % PLATFORMS.length] as Platform,
  }));
}

/** The physical minimum of op calls: one full call per 20 items, per platform. */
function minimumCalls(items: readonly { platform: Platform }[]): number {
  return PLATFORMS.reduce((sum, platform) => sum + Math.ceil(items.filter((item) => item.platform === platform).length / PER_CALL), 0);
}

const sinceMs = (started: number) => performance.now() - started;

function expectStatus(answer: ApiAnswer, statuses: readonly number[], what: string): void {
  if (!statuses.includes(answer.statusCode)) throw new Error(`${what} answered ${answer.statusCode}: ${JSON.stringify(answer.body)}`);
}

/** TPNS applied nothing more for this long while work was queued: the product is stuck, not slow. */
const STALL_MS = 90_000;

class Stalled extends Error {
  override name = 'Stalled';
  constructor(readonly done: number, expected: number) {
    super(`only ${done} of ${expected} items applied, and no more for ${STALL_MS / 1000} s`);
  }
}

/** Waits until TPNS has applied `expected` more items than `before`; the time it took. Throws Stalled when progress stops. */
async function applied(world: BenchWorld, before: CallCounts, expected: number, started: number): Promise<number> {
  let last = 0;
  let lastProgress = performance.now();
  for (;;) {
    const done = world.counts().itemsApplied - before.itemsApplied;
    if (done >= expected) return sinceMs(started);
    if (done > last) {
      last = done;
      lastProgress = performance.now();
    }
    if (performance.now() - lastProgress > STALL_MS) throw new Stalled(done, expected);
    if (sinceMs(started) > SCENARIO_TIMEOUT_MS) {
      throw new Error(`only ${done} of ${expected} items applied after ${SCENARIO_TIMEOUT_MS} ms; TPNS counters ${JSON.stringify(world.stack.tpns.counters())}`);
    }
    await sleep(10);
  }
}

/** A benchmark of lost or unverified work would be meaningless: every item must end verified. */
async function expectVerified(world: BenchWorld, items: readonly Device[], what: string): Promise<void> {
  const records = await world.ledger.getTokens(items);
  const unverified = items.filter((item) => records.get(tokenKeyId(item))?.state !== 'verified');
  if (unverified.length > 0) throw new Error(`${what}: ${unverified.length} of ${items.length} tokens not verified (e.g. ${JSON.stringify(records.get(tokenKeyId(unverified[0]!)))})`);
}

function checkCounts(counts: CallCounts, expectedApplied: number, what: string): void {
  if (counts.itemsApplied < expectedApplied) throw new Error(`${what}: ${counts.itemsApplied} items applied, expected ${expectedApplied}`);
  if (counts.itemsFailed > 0) throw new Error(`${what}: ${counts.itemsFailed} items failed at TPNS`);
}

/** The worker invocations of a scenario: how many, and how long they ran (Lambda kills one at the function's timeout, 60 s). */
function invocationFigures(scenario: string, invocations: readonly Invocation[], worker: { memoryMb: number; timeoutSeconds: number }): Samples {
  if (invocations.length === 0) return {};
  const durations = invocations.map((invocation) => invocation.durationMs);
  const longestCpuMs = Math.max(...invocations.map((invocation) => invocation.cpuMs));
  return {
    [`${scenario}.workerInvocations`]: invocations.length,
    [`${scenario}.workerInvocationMedianMs`]: percentile(durations, 50),
    [`${scenario}.workerInvocationMaxMs`]: Math.max(...durations),
    [`${scenario}.workerInvocationMaxCpuMs`]: longestCpuMs,
    [`${scenario}.workerCpuAtDeployedMemoryVsTimeout`]: cpuAtMemoryVsTimeout(longestCpuMs, worker),
    [`${scenario}.messagesPerInvocation`]: invocations.reduce((sum, invocation) => sum + invocation.messages, 0) / invocations.length,
  };
}

const signIn = (world: BenchWorld, { token, account, platform }: Device) =>
  world.call('login', 'PUT /v1/me/devices/{token}', { account, pathParameters: { token }, body: { platform } });

/** eagerKb.<function>: what a cold start loads before the handler runs. */
const bundles: Scenario = {
  name: 'bundles',
  rounds: () => 1,
  run: ({ world }) => {
    const samples: Samples = {};
    for (const name of FUNCTIONS) {
      const bundle = world.bundle(name);
      samples[`eagerKb.${name}`] = bundle.eagerBytes / 1024;
      samples[`bundles.${name}.lazyKb`] = bundle.lazyBytes / 1024;
    }
    return Promise.resolve(samples);
  },
};

/** One admin bulk through `concurrency` fresh worker containers (their peak RSS is this bulk's). */
async function bulkOnce({ world, options, round, log }: ScenarioContext, concurrency: number): Promise<Samples> {
  await world.restartWorkers(concurrency);
  const items = devices(options.items, `bulk-${round}-${concurrency}`);
  const before = world.counts();
  const started = performance.now();
  const login = await world.callInContainer(BULK_ROUTE, { account: 'bench-admin', admin: true, body: { items } }, BULK_TIMEOUT_SECONDS);
  expectStatus(login.answer, [200, 202], 'the admin bulk');
  const acceptMs = sinceMs(started);
  const appliedMs = await applied(world, before, items.length, started);
  await world.quiet();
  const quietMs = sinceMs(started);
  const counts = world.counts();
  checkCounts(counts, items.length, 'bulk');
  await expectVerified(world, items, 'bulk');
  const minimum = minimumCalls(items);
  const memory = await world.pool.peakMemory();
  log(
    `  bulk (${concurrency} worker invocation(s) at once): answered in ${Math.round(acceptMs)} ms, applied in ${Math.round(appliedMs)} ms, verified in ${Math.round(quietMs)} ms; ` +
      `${counts.op} op calls (minimum ${minimum}), ${counts.query} read-back calls; worker RSS ${memory.rssMb.toFixed(1)} MB; ` +
      `login: ${Math.round(login.cpuMs)} ms CPU, RSS ${login.memory.rssMb.toFixed(1)} MB`,
  );
  const { route } = login;
  const { worker } = world.config;
  const workers = invocationFigures('bulk', world.pool.takeInvocations(), worker);
  return {
    workerCpuAtDeployedMemoryVsTimeout: workers['bulk.workerCpuAtDeployedMemoryVsTimeout'] ?? Number.NaN,
    opCallsPerMinimum: counts.op / minimum,
    verifyCallsPerItem: counts.query / items.length,
    workerPeakRssMb: memory.rssMb,
    'bulk.workerPeakRssVsMemory': memory.rssMb / worker.memoryMb,
    bulkCpuAtDeployedMemoryVsTimeout: cpuAtMemoryVsTimeout(login.cpuMs, route),
    bulkLoginPeakRssVsMemory: login.memory.rssMb / route.memoryMb,
    'bulk.loginPeakRssMb': login.memory.rssMb,
    'bulk.loginCpuMs': login.cpuMs,
    'bulk.loginDurationMs': login.durationMs,
    'bulk.loginPeakHeapUsedMb': login.memory.heapUsedMb,
    'bulk.loginMemoryMb': route.memoryMb,
    'bulk.items': items.length,
    'bulk.workerConcurrency': concurrency,
    'bulk.opCalls': counts.op,
    'bulk.minimumOpCalls': minimum,
    'bulk.queryCalls': counts.query,
    'bulk.answeredMs': acceptMs,
    'bulk.appliedMs': appliedMs,
    'bulk.verifiedMs': quietMs,
    'bulk.workerPeakHeapTotalMb': memory.heapTotalMb,
    'bulk.workerPeakHeapUsedMb': memory.heapUsedMb,
    'bulk.workerPeakExternalMb': memory.externalMb,
    ...workers,
  };
}

/**
 * One admin bulk of `items` binds (POST /v1/admin/bindings, half Android, half iOS): recorded,
 * queued as push keys, pushed and read back by the worker containers. Op calls against the
 * minimum, read-back calls per item, worker memory. If the product stops making progress at
 * serverless.yml's worker concurrency (measured: it can, see docs/performance.md), that is
 * recorded (`bulk.stalledAtDeployedConcurrency`), the queue purged, and the bulk measured again
 * with one worker invocation at a time, so the figures still say what a bulk costs when it goes through.
 */
const bulk: Scenario = {
  name: 'bulk',
  rounds: (options) => options.runs,
  async run(context) {
    const { world, log } = context;
    try {
      return { ...(await bulkOnce(context, world.workerConcurrency)), 'bulk.stalledAtDeployedConcurrency': 0 };
    } catch (error) {
      if (!(error instanceof Stalled)) throw error;
      log(`  bulk STALLED at ${world.workerConcurrency} worker invocations at once: ${error.message}, ${JSON.stringify(world.counts())}; measuring again with 1`);
      const opCallsBeforeStall = world.counts().op;
      await world.stopWorkers();
      await world.purgeQueue();
      world.stack.tpns.reset();
      const fallback = await bulkOnce(context, 1);
      return { ...fallback, 'bulk.stalledAtDeployedConcurrency': 1, 'bulk.appliedBeforeStall': error.done, 'bulk.opCallsBeforeStall': opCallsBeforeStall };
    }
  },
};

/**
 * The other two admin bulks at full size, each request in a container of its function, on
 * devices that are there: `items` Android devices are bound first (in this process, not
 * measured), then their accounts are deleted (both apps: each deletion reads its account's token
 * and record) and their tokens signed out (one app, one request). Their CPU against
 * serverless.yml's memory and timeout; the workers drain each before the next.
 */
const removals: Scenario = {
  name: 'bulk-removals',
  rounds: () => 1,
  async run({ world, options, round, log }) {
    const bound = devices(options.items, `removals-${round}`).map((device) => ({ ...device, platform: 'android' as const }));
    expectStatus(await world.call('login', BULK_ROUTE, { account: 'bench-admin', admin: true, body: { items: bound } }, BULK_TIMEOUT_SECONDS), [200, 202], 'binding the devices to remove');
    await world.quiet();
    const requests = [
      { name: 'bulkDelete', routeKey: 'POST /v1/admin/delete-accounts', body: { accounts: bound.map(({ account }) => ({ account })) } },
      { name: 'bulkUnbind', routeKey: 'POST /v1/admin/unbind-tokens', body: { platform: 'android', tokens: bound.map(({ token }) => token) } },
    ];
    const samples: Samples = {};
    world.pool.takeInvocations();
    for (const { name, routeKey, body } of requests) {
      const call = await world.callInContainer(routeKey, { account: 'bench-admin', admin: true, body }, BULK_TIMEOUT_SECONDS);
      expectStatus(call.answer, [200, 202], routeKey);
      log(`  ${routeKey} of ${options.items}: ${Math.round(call.cpuMs)} ms CPU in ${Math.round(call.durationMs)} ms, RSS ${call.memory.rssMb.toFixed(1)} MB of ${call.route.memoryMb}`);
      samples[`${name}CpuAtDeployedMemoryVsTimeout`] = cpuAtMemoryVsTimeout(call.cpuMs, call.route);
      samples[`bulk-removals.${name}CpuMs`] = call.cpuMs;
      samples[`bulk-removals.${name}DurationMs`] = call.durationMs;
      samples[`bulk-removals.${name}PeakRssVsMemory`] = call.memory.rssMb / call.route.memoryMb;
      const started = performance.now();
      await world.quiet();
      samples[`bulk-removals.${name}DrainedMs`] = sinceMs(started);
      Object.assign(samples, invocationFigures(`bulk-removals.${name}`, world.pool.takeInvocations(), world.config.worker));
    }
    return samples;
  },
};

/** `signIns` sign-ins through the login function with TPNS healthy, 50 at a time, the workers polling. */
const healthy: Scenario = {
  name: 'healthy',
  rounds: (options) => options.runs,
  async run({ world, options, round, log }) {
    const items = devices(options.signIns, `healthy-${round}`);
    const limit = pLimit(HEALTHY_SENDERS);
    const started = performance.now();
    let queued = 0;
    await Promise.all(
      items.map((item) =>
        limit(async () => {
          const answer = await signIn(world, item);
          expectStatus(answer, [200, 202], 'a healthy sign-in');
          if (answer.statusCode === 202) queued += 1;
        }),
      ),
    );
    const answeredMs = sinceMs(started);
    await world.quiet();
    const counts = world.counts();
    checkCounts(counts, items.length, 'healthy');
    await expectVerified(world, items, 'healthy');
    log(`  healthy: ${items.length} sign-ins answered in ${Math.round(answeredMs)} ms (${queued} queued); ${counts.op} op calls, ${counts.query} read-back calls`);
    return {
      opCallsPerSignInHealthy: counts.op / items.length,
      verifyCallsPerSignInHealthy: counts.query / items.length,
      'healthy.signIns': items.length,
      'healthy.answeredMs': answeredMs,
      'healthy.queuedSignIns': queued,
    };
  },
};

/**
 * `signIns` sign-ins while TPNS fails every batchoperate (HTTP 500): each is recorded, its direct
 * attempt fails within the 2 s budget and it is queued (202). The workers are paused meanwhile
 * (their pushes would fail too); TPNS recovers, the workers drain the backlog: op calls per
 * sign-in are the worker's alone, after recovery.
 */
const burst: Scenario = {
  name: 'burst',
  rounds: (options) => options.runs,
  async run({ world, options, round, log }) {
    await world.pauseWorkers();
    const items = devices(options.signIns, `burst-${round}`);
    const fault = world.stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    const limit = pLimit(BURST_SENDERS);
    const started = performance.now();
    try {
      await Promise.all(items.map((item) => limit(async () => expectStatus(await signIn(world, item), [202], 'a sign-in while TPNS fails'))));
    } finally {
      world.stack.tpns.clearFaults();
    }
    const answeredMs = sinceMs(started);
    const before = world.counts();
    const recovered = performance.now();
    await world.resumeWorkers();
    const appliedMs = await applied(world, before, items.length, recovered);
    await world.quiet();
    const after = world.counts();
    checkCounts({ ...after, itemsApplied: after.itemsApplied - before.itemsApplied, itemsFailed: after.itemsFailed - before.itemsFailed }, items.length, 'burst');
    await expectVerified(world, items, 'burst');
    const opCalls = after.op - before.op;
    log(`  burst: ${items.length} sign-ins queued in ${Math.round(answeredMs)} ms (${fault.fired} failed direct calls); after recovery ${opCalls} op calls, applied in ${Math.round(appliedMs)} ms`);
    return {
      opCallsPerSignInBurst: opCalls / items.length,
      'burst.signIns': items.length,
      'burst.failedDirectCallsPerSignIn': before.op / items.length,
      'burst.verifyCallsPerSignIn': (after.query - before.query) / items.length,
      'burst.answeredMs': answeredMs,
      'burst.appliedAfterRecoveryMs': appliedMs,
    };
  },
};

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/**
 * Warm sign-ins, one at a time, against their references request by request: the login function
 * (PUT /v1/me/devices/{token}, the bundle invoked in this process), a plain signed `fetch` of the
 * same op 2 call, and the bare equivalent (bench/bare.ts: the same ledger write, TPNS call and SQS
 * send, plainly). The workers are paused meanwhile: in Lambda they run on other machines.
 */
const warm: Scenario = {
  name: 'warm',
  rounds: (options) => options.runs,
  async run({ world, options, log }) {
    await world.pauseWorkers();
    // After the burst's outage the login function's direct-path breaker may still be open: its sign-ins would be queued (202).
    await sleep(DIRECT_COOL_DOWN_MS);
    const bare = new Bare(bareTargetFromEnv(process.env));
    const times = { handler: [] as number[], plainFetch: [] as number[], bare: [] as number[], sameCalls: [] as number[] };
    try {
      for (let index = 0; index < WARM_UP + options.warmRequests; index++) {
        const fresh = (): Device => ({ token: randomUUID(), account: `warm-${randomUUID().slice(0, 8)}`, platform: 'android' });
        // What API Gateway and Lambda do before the handler runs (building the event) is not timed.
        const request = world.invocation('login', 'PUT /v1/me/devices/{token}', (({ token, account }) => ({ account, pathParameters: { token }, body: { platform: 'android' } }))(fresh()));
        let answer = { statusCode: 0, body: '' };
        const handler = await timed(async () => {
          answer = await request();
        });
        if (answer.statusCode !== 200) {
          const last = world.stack.tpns.requests().slice(-3).map(({ path, httpStatus, retCode, fault }) => ({ path, httpStatus, retCode, fault }));
          throw new Error(`a warm sign-in answered ${answer.statusCode}: ${answer.body}; TPNS's last answers: ${JSON.stringify(last)}, faults: ${JSON.stringify(world.stack.tpns.faults())}`);
        }
        const plain = fresh();
        const plainFetch = await timed(() => bare.plainFetch('android', { operator_type: 2, token_accounts: [{ token: plain.token, account_list: [{ account: plain.account }] }] }));
        const equivalent = fresh();
        const bareMs = await timed(() => bare.signIn('android', equivalent.token, equivalent.account));
        const same = fresh();
        const sameCalls = await timed(() => bare.signInSameCalls('android', same.token, same.account));
        if (index < WARM_UP) continue;
        times.handler.push(handler);
        times.plainFetch.push(plainFetch);
        times.bare.push(bareMs);
        times.sameCalls.push(sameCalls);
      }
    } finally {
      bare.destroy();
    }
    const p50 = (samples: number[]) => percentile(samples, 50);
    const p99 = (samples: number[]) => percentile(samples, 99);
    log(`  warm p50: sign-in ${p50(times.handler).toFixed(2)} ms, plain fetch ${p50(times.plainFetch).toFixed(2)} ms, bare equivalent ${p50(times.bare).toFixed(2)} ms, the same calls bare ${p50(times.sameCalls).toFixed(2)} ms`);
    return {
      warmP50VsPlainFetch: p50(times.handler) / p50(times.plainFetch),
      warmP50VsBareEquivalent: p50(times.handler) / p50(times.bare),
      'warm.requests': options.warmRequests,
      'warm.handlerP50Ms': p50(times.handler),
      'warm.handlerP99Ms': p99(times.handler),
      'warm.plainFetchP50Ms': p50(times.plainFetch),
      'warm.bareEquivalentP50Ms': p50(times.bare),
      'warm.bareEquivalentP99Ms': p99(times.bare),
      'warm.bareSameCallsP50Ms': p50(times.sameCalls),
      'warm.p50VsBareSameCalls': p50(times.handler) / p50(times.sameCalls),
    };
  },
};

/** The first invocation `name` gets, as its trigger would send it; `who` keeps tokens and accounts fresh. */
function firstEvent(world: BenchWorld, name: FunctionName, who: string): unknown {
  const user = { account: `cold-${who}`, pathParameters: { token: `cold-${who}-device` } };
  switch (name) {
    case 'login':
      return world.apiEvent('PUT /v1/me/devices/{token}', { ...user, body: { platform: 'android' } });
    case 'logout':
      return world.apiEvent('DELETE /v1/me/devices/{token}', { ...user, pathParameters: { token: `cold-${who}-out` }, query: { platform: 'android' } });
    case 'delete-account':
      return world.apiEvent('DELETE /v1/me', { ...user, account: `cold-${who}-deleted` });
    case 'query':
      return world.apiEvent('GET /v1/me/devices', user);
    case 'bind-worker':
      return world.sqsEvent(keyMessages([{ kind: 'token', platform: 'android', token: `cold-${who}-device` }], { phase: 'push', correlationId: `cold-${who}` }).map(({ message }) => message));
  }
}

/** A fresh container (process) imports `bundle` and serves `event` as its first invocation. */
async function coldStart(world: BenchWorld, bundle: string, name: FunctionName, event: unknown): Promise<{ importMs: number; totalMs: number }> {
  // The bare equivalent gets the memory of the function it stands in for.
  const container = await Container.start(world.host, bundle, process.env, world.memoryOf(name), { quiet: true });
  try {
    const { result, durationMs } = await container.invoke(event, name, 10_000);
    const answer = result as { statusCode?: number; batchItemFailures?: unknown[] } | null;
    const ok = (answer?.statusCode !== undefined && answer.statusCode >= 200 && answer.statusCode < 300) || answer?.batchItemFailures?.length === 0;
    if (!ok) throw new Error(`${bundle}: first invocation answered ${JSON.stringify(result)}`);
    return { importMs: container.importMs, totalMs: container.importMs + durationMs };
  } finally {
    await container.close();
  }
}

/**
 * Each function's cold start against its bare equivalent's (bench/bare.ts, bundled the same way,
 * serving the same kind of event): a fresh process imports the bundle and serves its first
 * invocation; the function's and the bare one's interleaved, function by function.
 */
const cold: Scenario = {
  name: 'cold',
  rounds: (options) => options.coldRuns,
  async run({ world, round, log }) {
    const tag = `r${round}-${randomUUID().slice(0, 6)}`;
    const samples: Samples = {};
    for (const name of FUNCTIONS) {
      // The bind-worker's key is the one its round's login just recorded (bare: the bare login's);
      // both sides read the same account's devices (the bare login writes no account index).
      const who = (side: string) => (name === 'query' ? `${tag}-product` : `${tag}-${side}`);
      const product = await coldStart(world, world.bundle(name).file, name, firstEvent(world, name, who('product')));
      const bare = await coldStart(world, world.bundle(BARE).file, name, firstEvent(world, name, who('bare')));
      samples[`coldFirstCallVsBareEquivalent.${name}`] = product.totalMs / bare.totalMs;
      samples[`cold.${name}.importMs`] = product.importMs;
      samples[`cold.${name}.firstCallMs`] = product.totalMs;
      samples[`cold.bare.${name}.importMs`] = bare.importMs;
      samples[`cold.bare.${name}.firstCallMs`] = bare.totalMs;
    }
    if (round === 1) log(`  cold, first round: ${FUNCTIONS.map((name) => `${name} ${samples[`cold.${name}.firstCallMs`]?.toFixed(0)} ms (bare ${samples[`cold.bare.${name}.firstCallMs`]?.toFixed(0)})`).join(', ')}`);
    return samples;
  },
};

/** A hash class as the SDK clients take it (their `sha256` option). */
type HashClass = new (secret?: Uint8Array) => { update(data: string): void; digest(): Promise<Uint8Array> };

/** SigV4's hashing of one request, sized like a ledger UpdateItem: the payload, the canonical request, one HMAC with the day's signing key. */
const SIGNED_PAYLOAD = JSON.stringify({ TableName: 'tpns-account-sync-ledger', Key: { pk: { S: `token#android#${'a'.repeat(64)}` } }, UpdateExpression: 'SET #v = :v' });
const CANONICAL_REQUEST = `POST\n/\n\ncontent-type:application/x-amz-json-1.0\nhost:dynamodb.us-east-1.amazonaws.com\nx-amz-date:20261203T000000Z\nx-amz-target:DynamoDB_20120810.UpdateItem\n\ncontent-type;host;x-amz-date;x-amz-target\n${'0'.repeat(64)}`;
const STRING_TO_SIGN = `AWS4-HMAC-SHA256\n20261203T000000Z\n20261203/us-east-1/dynamodb/aws4_request\n${'0'.repeat(64)}`;

async function signingCpuMs(Hash: HashClass, requests: number, signingKey: Uint8Array): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    for (const data of [SIGNED_PAYLOAD, CANONICAL_REQUEST]) {
      const hash = new Hash();
      hash.update(data);
      await hash.digest();
    }
    const hmac = new Hash(signingKey);
    hmac.update(STRING_TO_SIGN);
    await hmac.digest();
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

/**
 * signingCpuVsSdkHash: SigV4's per-request hashing with lib/config/sdk-sha256.ts over the same
 * with the SDK's default hash, alternated in this process (a KeyObject HMAC key, not a Buffer).
 */
const signing: Scenario = {
  name: 'signing',
  rounds: (options) => options.runs,
  run: async ({ options }) => {
    const [{ DynamoDBClient }, { Sha256 }] = await Promise.all([import('@aws-sdk/client-dynamodb'), import('../lib/config/sdk-sha256.js')]);
    const client = new DynamoDBClient({ region: 'us-east-1' });
    const sdkHash = client.config.sha256 as HashClass;
    client.destroy();
    const requests = Math.max(1_000, options.items);
    const signingKey = new Uint8Array(randomBytes(32));
    await signingCpuMs(sdkHash, 200, signingKey); // warm both up
    await signingCpuMs(Sha256, 200, signingKey);
    let sdkMs = 0;
    let oursMs = 0;
    for (let half = 0; half < 2; half++) {
      sdkMs += await signingCpuMs(sdkHash, requests / 2, signingKey);
      oursMs += await signingCpuMs(Sha256, requests / 2, signingKey);
    }
    return { signingCpuVsSdkHash: oursMs / sdkMs, 'signing.requests': requests, 'signing.sdkHashCpuMs': sdkMs, 'signing.cpuMs': oursMs };
  },
};

/** In the order a round runs them. */
export const SCENARIOS: readonly Scenario[] = [bundles, signing, bulk, removals, healthy, burst, warm, cold];
