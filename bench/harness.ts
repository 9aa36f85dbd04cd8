/**
 * One benchmark run: builds the bundles, starts the stack, repeats the queue scenarios `runs`
 * times (each run measuring the product and its references side by side), then the cold starts.
 * Returns everything bench/results.json holds; bench/run.ts prints and writes it.
 */
import { MAX_ITEMS_PER_MESSAGE } from '../lib/queue/messages.js';
import { buildWithEmptyHandler, measureColdStarts } from './cold-start.js';
import { startCpuMeter } from './cpu.js';
import type { CpuSplit } from './cpu.js';
import type { ColdStartFigures } from './cold-start.js';
import { describeMachine } from './machine.js';
import type { Machine } from './machine.js';
import type { BenchOptions } from './options.js';
import { rawBindThroughput } from './raw-tpns.js';
import { bulkBind, bulkDeleteAccounts, bulkUnbind, devices, directSignIns, drainConfirmations, signInBurst } from './scenarios.js';
import type { CallTally } from './scenarios.js';
import { BenchStack } from './stack.js';
import { percentile, summarize } from './stats.js';
import type { Summary } from './stats.js';
import { warmOverhead } from './warm.js';
import type { Invocation } from './worker-pool.js';

/** The targets, checked against the medians. */
export const TARGETS = {
  tpnsCallRatio: { max: 1 },
  callsPerSignIn: { max: 0.1 },
  throughputVsRaw: { min: 0.8 },
  warmP50VsRaw: { max: 1.15 },
  coldStartBytes: { max: 150 * 1024 },
  coldStartVsEmpty: { max: 3 },
  workerPeakRssMb: { max: 128 },
} as const;

export interface ScenarioFigures {
  items: number;
  /** Calls of the last run, and the minimum (they do not vary between runs when all goes well). */
  calls: number;
  minimum: number;
  ratio: Summary;
}

export interface BenchResults {
  generatedAt: string;
  command: string;
  machine: Machine;
  options: Omit<BenchOptions, 'out' | 'distDir'>;
  /** Worst of the three bulk scenarios: calls / minimum (median over runs). */
  tpnsCallRatio: number;
  /** A burst of single sign-ins (half Android, half iOS) that waited in the queue, then drained. */
  callsPerSignIn: number;
  /** The same with every sign-in on one platform (one TPNS call per batch at most). */
  callsPerSignInOnePlatform: number;
  /** The same burst arriving while the workers poll. */
  callsPerSignInLive: number;
  /** TPNS healthy: a burst of sign-ins applied directly, plus the worker's calls for their queued confirmations. */
  callsPerSignInHealthy: number;
  throughputVsRaw: number;
  /** The same ratio with a realistic TPNS round trip added to every call (pipeline and raw alike). */
  throughputVsRawWithLatency: number;
  throughputVsNaive: number;
  warmP50VsRaw: number;
  warmP99VsRaw: number;
  coldStart: Record<string, ColdStartFigures>;
  workerPeakRssMb: number;
  /** The raw figures behind the ratios: median, min, max and every sample. */
  figures: {
    efficiency: { bulkBind: ScenarioFigures; bulkUnbind: ScenarioFigures; deleteAccounts: ScenarioFigures; burst: ScenarioFigures; burstOnePlatform: ScenarioFigures; burstLive: ScenarioFigures };
    throughput: {
      /** TPNS calls in flight at most, for the pipeline and for the raw references. */
      concurrency: number;
      workerConcurrency: number;
      pipelineItemsPerSecond: Summary;
      rawItemsPerSecond: Summary;
      naiveItemsPerSecond: Summary;
      vsRaw: Summary;
      vsNaive: Summary;
      /** CPU ms per 1 000 items applied, by process group: where a 2-core machine spends its time. */
      cpuMsPer1000Items: { pipeline: Record<keyof CpuSplit, Summary>; raw: Record<keyof CpuSplit, Summary> };
      /**
       * The same bulk bind and raw reference with `latencyMs` added to every TPNS call: against a
       * zero-latency loopback emulator the ratio only compares CPU per item on a shared 2-core box.
       */
      withLatency: { latencyMs: number; pipelineItemsPerSecond: Summary; rawItemsPerSecond: Summary; vsRaw: Summary };
    };
    /**
     * TPNS healthy: every sign-in is one direct call plus a confirming copy queued in its token's
     * group, which the worker applies again (coalesced per batch like any queued sign-in).
     */
    healthyPath: {
      /** The mixed burst of `burst` sign-ins through the login handler, the workers polling. */
      burst: { signIns: number; callsPerSignIn: Summary; workerCallsPerSignIn: Summary };
      /** The warm requests' confirmations (Android only), queued while the workers were paused, then drained. */
      warm: { signIns: number; workerCallsPerSignIn: Summary };
    };
    warm: {
      requests: number;
      handlerP50Ms: Summary;
      handlerP99Ms: Summary;
      rawP50Ms: Summary;
      rawP99Ms: Summary;
      /** Plain fetch and plain SQS SendMessage concurrently: the same work as a sign-in, bare. */
      rawWithSqsP50Ms: Summary;
      p50VsRaw: Summary;
      p50VsRawWithSqs: Summary;
      p99VsRaw: Summary;
    };
    workerPeakRssMb: Summary;
    /** Worker invocation durations (the handler's own, what Lambda bills), TPNS on loopback. */
    workerInvocations: {
      bulk: { medianMs: Summary; itemsPerInvocation: number };
      burst: { medianMs: Summary; signInsPerInvocation: number };
    };
  };
}

/** Worker invocations of one scenario: the median duration and how much each carried. */
interface InvocationFigures {
  medianMs: number;
  messagesPerInvocation: number;
}

function invocationFigures(invocations: readonly Invocation[]): InvocationFigures {
  return {
    medianMs: percentile(invocations.map((invocation) => invocation.durationMs), 50),
    messagesPerInvocation: invocations.reduce((sum, invocation) => sum + invocation.messages, 0) / invocations.length,
  };
}

interface RunFigures {
  bulkBind: CallTally;
  bulkUnbind: CallTally;
  deleteAccounts: CallTally;
  burst: CallTally;
  burstOnePlatform: CallTally;
  burstLive: CallTally;
  healthyBurst: CallTally;
  warmConfirmations: CallTally;
  pipelineItemsPerSecond: number;
  rawItemsPerSecond: number;
  naiveItemsPerSecond: number;
  latentPipelineItemsPerSecond: number;
  latentRawItemsPerSecond: number;
  warm: Awaited<ReturnType<typeof warmOverhead>>;
  workerPeakRssMb: number;
  bulkInvocations: InvocationFigures;
  burstInvocations: InvocationFigures;
  pipelineCpu: CpuSplit;
  rawCpu: CpuSplit;
}

type Log = (line: string) => void;

async function oneRun(stack: BenchStack, options: BenchOptions, run: number, concurrency: number, log: Log): Promise<RunFigures> {
  await stack.emulator.reset();
  const workers = await stack.startWorkers();
  try {
    const bound = devices(options.items, run);
    const pipelineMeter = await startCpuMeter(stack.emulator, stack.sqs, workers.pool, options.items);
    const bulkBindTally = await bulkBind(stack, workers, bound);
    const pipelineCpu = await pipelineMeter();
    const bulkInvocations = invocationFigures(workers.pool.takeInvocations());
    const workerPeakRssMb = await workers.pool.peakRssMb();
    log(`  bulk bind: ${bulkBindTally.calls} calls (min ${bulkBindTally.minimum}), answered in ${Math.round(bulkBindTally.acceptedMs)} ms, applied in ${Math.round(bulkBindTally.elapsedMs)} ms, worker RSS ${workerPeakRssMb.toFixed(1)} MB`);
    // The references right after, on the same emulator, same call size and concurrency.
    const rawMeter = await startCpuMeter(stack.emulator, stack.sqs, workers.pool, options.items);
    const rawItemsPerSecond = await rawBindThroughput(stack.raw, 'android', devices(options.items, run), MAX_ITEMS_PER_MESSAGE, concurrency);
    const rawCpu = await rawMeter();
    const naiveItemsPerSecond = await rawBindThroughput(stack.raw, 'android', devices(options.naiveItems, run), 1, concurrency);
    log(`  raw ${Math.round(rawItemsPerSecond)} items/s, naive ${Math.round(naiveItemsPerSecond)} items/s`);
    // The same with a realistic TPNS round trip on every call, product first, then raw.
    await stack.emulator.setLatency(options.tpnsLatencyMs);
    const latentBind = await bulkBind(stack, workers, devices(options.items, run));
    const latentRawItemsPerSecond = await rawBindThroughput(stack.raw, 'android', devices(options.items, run), MAX_ITEMS_PER_MESSAGE, concurrency);
    await stack.emulator.setLatency(0);
    workers.pool.takeInvocations();
    const latentPipelineItemsPerSecond = latentBind.applied / (latentBind.elapsedMs / 1000);
    log(`  with ${options.tpnsLatencyMs} ms TPNS latency: ${Math.round(latentPipelineItemsPerSecond)} items/s, raw ${Math.round(latentRawItemsPerSecond)} items/s`);
    const bulkUnbindTally = await bulkUnbind(stack, workers, bound);
    log(`  bulk unbind: ${bulkUnbindTally.calls} calls (min ${bulkUnbindTally.minimum})`);
    const deleteTally = await bulkDeleteAccounts(stack, workers, options.accounts, run);
    log(`  delete accounts: ${deleteTally.calls} calls (min ${deleteTally.minimum})`);
    const burst = await signInBurst(stack, workers, devices(options.burst, run), { backlog: true });
    workers.pool.takeInvocations();
    const burstOnePlatform = await signInBurst(stack, workers, devices(options.burst, run, ['android']), { backlog: true });
    const burstInvocations = invocationFigures(workers.pool.takeInvocations());
    const burstLive = await signInBurst(stack, workers, devices(options.burst, run), { backlog: false });
    log(`  burst: ${burst.calls} calls for ${burst.applied} sign-ins (one platform: ${burstOnePlatform.calls}, live: ${burstLive.calls})`);
    const healthyBurst = await directSignIns(stack, workers, devices(options.burst, run));
    workers.pool.takeInvocations();
    log(`  healthy burst: ${healthyBurst.calls} calls for ${healthyBurst.minimum} sign-ins (direct + confirmations)`);
    // The worker runs in Lambda containers of its own, not on the login function's CPU: paused
    // while the handler is timed, its confirmations wait in the queue and are drained after.
    await workers.pause();
    const warm = await warmOverhead(stack, options.warmRequests);
    const warmConfirmations = await drainConfirmations(stack, workers, warm.signIns, 'android');
    workers.pool.takeInvocations();
    log(`  warm p50 ${warm.handler.p50.toFixed(2)} ms vs raw ${warm.raw.p50.toFixed(2)} ms; ${warmConfirmations.calls} worker calls for ${warm.signIns} confirmations`);
    return {
      bulkBind: bulkBindTally,
      bulkUnbind: bulkUnbindTally,
      deleteAccounts: deleteTally,
      burst,
      burstOnePlatform,
      burstLive,
      healthyBurst,
      warmConfirmations,
      pipelineItemsPerSecond: bulkBindTally.applied / (bulkBindTally.elapsedMs / 1000),
      rawItemsPerSecond,
      naiveItemsPerSecond,
      latentPipelineItemsPerSecond,
      latentRawItemsPerSecond,
      warm,
      workerPeakRssMb,
      bulkInvocations,
      burstInvocations,
      pipelineCpu,
      rawCpu,
    };
  } finally {
    await workers.stop();
  }
}

function cpuSummaries(splits: readonly CpuSplit[]): Record<keyof CpuSplit, Summary> {
  const of = (key: keyof CpuSplit) => summarize(splits.map((split) => split[key]));
  return { bench: of('bench'), workers: of('workers'), sqs: of('sqs'), emulator: of('emulator'), total: of('total') };
}

function scenario(runs: readonly RunFigures[], pick: (run: RunFigures) => CallTally): ScenarioFigures {
  const last = pick(runs.at(-1) as RunFigures);
  return { items: last.applied, calls: last.calls, minimum: last.minimum, ratio: summarize(runs.map((run) => pick(run).calls / pick(run).minimum)) };
}

export async function runBenchmarks(options: BenchOptions, command: string, log: Log = () => undefined): Promise<BenchResults> {
  log(`building bundles into ${options.distDir}`);
  const build = await buildWithEmptyHandler(options.distDir);
  const stack = await BenchStack.start(build.bundles, { workerConcurrency: options.workerConcurrency });
  const concurrency = stack.tpnsConcurrency;
  try {
    const runs: RunFigures[] = [];
    for (let run = 1; run <= options.runs; run++) {
      log(`run ${run}/${options.runs}`);
      runs.push(await oneRun(stack, options, run, concurrency, log));
    }
    log(`cold starts: ${options.coldRuns} fresh processes per function`);
    const coldStart = await measureColdStarts(stack, build, options.coldRuns);
    const over = (pick: (run: RunFigures) => number) => summarize(runs.map(pick));
    const efficiency = {
      bulkBind: scenario(runs, (run) => run.bulkBind),
      bulkUnbind: scenario(runs, (run) => run.bulkUnbind),
      deleteAccounts: scenario(runs, (run) => run.deleteAccounts),
      burst: scenario(runs, (run) => run.burst),
      burstOnePlatform: scenario(runs, (run) => run.burstOnePlatform),
      burstLive: scenario(runs, (run) => run.burstLive),
    };
    const perSignIn = (tally: CallTally) => tally.calls / tally.applied;
    // directSignIns' minimum is its sign-in count, one direct call each; the rest is the worker's.
    const healthyPath = {
      burst: {
        signIns: options.burst,
        callsPerSignIn: over((run) => run.healthyBurst.calls / run.healthyBurst.minimum),
        workerCallsPerSignIn: over((run) => (run.healthyBurst.calls - run.healthyBurst.minimum) / run.healthyBurst.minimum),
      },
      warm: { signIns: runs[0]?.warmConfirmations.applied ?? 0, workerCallsPerSignIn: over((run) => perSignIn(run.warmConfirmations)) },
    };
    const throughput = {
      concurrency,
      workerConcurrency: stack.workerConcurrency,
      pipelineItemsPerSecond: over((run) => run.pipelineItemsPerSecond),
      rawItemsPerSecond: over((run) => run.rawItemsPerSecond),
      naiveItemsPerSecond: over((run) => run.naiveItemsPerSecond),
      vsRaw: over((run) => run.pipelineItemsPerSecond / run.rawItemsPerSecond),
      vsNaive: over((run) => run.pipelineItemsPerSecond / run.naiveItemsPerSecond),
      cpuMsPer1000Items: {
        pipeline: cpuSummaries(runs.map((run) => run.pipelineCpu)),
        raw: cpuSummaries(runs.map((run) => run.rawCpu)),
      },
      withLatency: {
        latencyMs: options.tpnsLatencyMs,
        pipelineItemsPerSecond: over((run) => run.latentPipelineItemsPerSecond),
        rawItemsPerSecond: over((run) => run.latentRawItemsPerSecond),
        vsRaw: over((run) => run.latentPipelineItemsPerSecond / run.latentRawItemsPerSecond),
      },
    };
    const warm = {
      requests: options.warmRequests,
      handlerP50Ms: over((run) => run.warm.handler.p50),
      handlerP99Ms: over((run) => run.warm.handler.p99),
      rawP50Ms: over((run) => run.warm.raw.p50),
      rawP99Ms: over((run) => run.warm.raw.p99),
      rawWithSqsP50Ms: over((run) => run.warm.rawWithSqs.p50),
      p50VsRaw: over((run) => run.warm.handler.p50 / run.warm.raw.p50),
      p50VsRawWithSqs: over((run) => run.warm.handler.p50 / run.warm.rawWithSqs.p50),
      p99VsRaw: over((run) => run.warm.handler.p99 / run.warm.raw.p99),
    };
    const workerPeakRssMb = over((run) => run.workerPeakRssMb);
    const { out: _out, distDir: _distDir, ...sizes } = options;
    return {
      generatedAt: new Date().toISOString(),
      command,
      machine: describeMachine(),
      options: sizes,
      tpnsCallRatio: Math.max(efficiency.bulkBind.ratio.median, efficiency.bulkUnbind.ratio.median, efficiency.deleteAccounts.ratio.median),
      callsPerSignIn: over((run) => perSignIn(run.burst)).median,
      callsPerSignInOnePlatform: over((run) => perSignIn(run.burstOnePlatform)).median,
      callsPerSignInLive: over((run) => perSignIn(run.burstLive)).median,
      callsPerSignInHealthy: healthyPath.burst.callsPerSignIn.median,
      throughputVsRaw: throughput.vsRaw.median,
      throughputVsRawWithLatency: throughput.withLatency.vsRaw.median,
      throughputVsNaive: throughput.vsNaive.median,
      warmP50VsRaw: warm.p50VsRaw.median,
      warmP99VsRaw: warm.p99VsRaw.median,
      coldStart,
      workerPeakRssMb: workerPeakRssMb.median,
      figures: {
        efficiency,
        throughput,
        healthyPath,
        warm,
        workerPeakRssMb,
        workerInvocations: {
          bulk: {
            medianMs: over((run) => run.bulkInvocations.medianMs),
            itemsPerInvocation: MAX_ITEMS_PER_MESSAGE * over((run) => run.bulkInvocations.messagesPerInvocation).median,
          },
          burst: {
            medianMs: over((run) => run.burstInvocations.medianMs),
            signInsPerInvocation: over((run) => run.burstInvocations.messagesPerInvocation).median,
          },
        },
      },
    };
  } finally {
    await stack.close();
  }
}

