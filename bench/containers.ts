/**
 * Handler bundles in "Lambda containers": separate Node processes (bench/container-host.ts)
 * holding one bundle each, so that what a container measures (its cold start, its peak RSS) is
 * the bundle's own, not the bench process's. The worker runs in a pool of them fed by the event
 * source (local/sqs) in the bench process, one batch per container at a time, as Lambda does.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSBatchResponse } from 'aws-lambda';
import { build } from 'esbuild';
import type { SqsBatchHandler } from '../local/sqs/event-source.js';

/** A container asked to exit that has not after this long is killed. */
const EXIT_GRACE_MS = 2_000;
const HOST_ENTRY = fileURLToPath(new URL('./container-host.ts', import.meta.url));

/**
 * The V8 limits Lambda's Node.js bootstrap sets from the function's memory: a tenth as new space
 * (two semi-spaces), the rest as old space. Without them Node sizes its heap for this 24 GB box and
 * grows it lazily, so a container's RSS would say nothing about a 256 MB function.
 */
export function lambdaMemoryArgs(memoryMb: number): string[] {
  const newSpaceMb = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpaceMb / 2)}`, `--max-old-space-size=${memoryMb - newSpaceMb}`];
}

interface Reply {
  id?: number;
  ready?: boolean;
  importMs?: number;
  result?: unknown;
  /** The handler's own duration (what Lambda bills), ms. */
  durationMs?: number;
  /** CPU time (user + system) the process spent during the invocation, ms. */
  cpuMs?: number;
  error?: string;
  peakRssMb?: number;
  peakHeapMb?: number;
  peakHeapUsedMb?: number;
  peakExternalMb?: number;
}

/** The host as a plain ESM file for the pinned Node: no tsx in a container. */
export async function buildHost(distDir: string): Promise<string> {
  const outfile = join(distDir, 'container-host.mjs');
  await build({ entryPoints: [HOST_ENTRY], outfile, bundle: true, platform: 'node', target: 'node22', format: 'esm', packages: 'external', logLevel: 'warning' });
  return outfile;
}

export class Container {
  #nextId = 0;
  readonly #pending = new Map<number, (reply: Reply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    /** How long importing the bundle took (the cold start before the first invocation). */
    readonly importMs: number,
  ) {
    child.on('message', (reply: Reply) => {
      if (reply.id === undefined) return;
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
  }

  /**
   * A fresh process that has imported `bundle`, with the heap limits Lambda gives a function of
   * `memoryMb`. Its stdout (the handlers' logs) goes to `output.log` if given; its stderr is shown
   * unless `output.quiet` (a failed invocation answers its error anyway).
   */
  static async start(host: string, bundle: string, env: NodeJS.ProcessEnv, memoryMb: number, output: { log?: string | undefined; quiet?: boolean } = {}): Promise<Container> {
    const stdio = ['ignore', output.log ? openSync(output.log, 'a') : 'ignore', output.quiet ? 'ignore' : 'inherit', 'ipc'] as const;
    // The pinned Node (npm scripts put node_modules/.bin first), without tsx: only the bundle runs there.
    const child = fork(host, [bundle], {
      execPath: process.execPath,
      // BENCH_CPU_PROF_DIR=<dir>: each container writes a V8 CPU profile there (Node refuses --cpu-prof in NODE_OPTIONS).
      execArgv: [...lambdaMemoryArgs(memoryMb), ...(env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF_DIR}`] : [])],
      env: { ...env, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb) },
      stdio: [...stdio],
    });
    const ready = await new Promise<Reply>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`container of ${bundle} exited with ${code} before it was ready`)));
      child.once('message', resolve);
    });
    child.removeAllListeners('exit');
    return new Container(child, ready.importMs ?? 0);
  }

  request(message: Record<string, unknown>): Promise<Reply> {
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.child.send({ ...message, id });
    });
  }

  /** One invocation; throws what the handler threw. */
  async invoke(event: unknown, functionName: string, remainingMs: number): Promise<{ result: unknown; durationMs: number; cpuMs: number }> {
    const reply = await this.request({ event, functionName, remainingMs });
    if (reply.error !== undefined) throw new Error(`${functionName} invocation failed: ${reply.error}`);
    return { result: reply.result, durationMs: reply.durationMs ?? 0, cpuMs: reply.cpuMs ?? 0 };
  }

  /** The process's peak RSS and the largest V8 heap (total, used) and external memory it reported after an invocation (MB). */
  async peakMemory(): Promise<PeakMemory> {
    const reply = await this.request({ usage: true });
    return { rssMb: reply.peakRssMb ?? 0, heapTotalMb: reply.peakHeapMb ?? 0, heapUsedMb: reply.peakHeapUsedMb ?? 0, externalMb: reply.peakExternalMb ?? 0 };
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ exit: true });
    const killer = setTimeout(() => this.child.kill(), EXIT_GRACE_MS);
    await exited;
    clearTimeout(killer);
  }
}

/** One worker invocation: its duration and the messages it was given. */
export interface Invocation {
  durationMs: number;
  cpuMs: number;
  messages: number;
}

export interface PeakMemory {
  rssMb: number;
  heapTotalMb: number;
  heapUsedMb: number;
  externalMb: number;
}

export interface WorkerPool {
  /** The SQS handler to give the event source: runs the batch in a free container. */
  handler: SqsBatchHandler;
  /** The invocations since the last call. */
  takeInvocations(): Invocation[];
  /** The peak memory of the container with the largest peak RSS. */
  peakMemory(): Promise<PeakMemory>;
  close(): Promise<void>;
}

export async function startWorkerPool(options: { host: string; bundle: string; size: number; memoryMb: number; env: NodeJS.ProcessEnv }): Promise<WorkerPool> {
  const { env } = options;
  // BENCH_WORKER_LOG=<file> keeps the containers' logs (with BENCH_WORKER_LOG_LEVEL=INFO: every batch's counts).
  const childEnv = env.BENCH_WORKER_LOG_LEVEL ? { ...env, POWERTOOLS_LOG_LEVEL: env.BENCH_WORKER_LOG_LEVEL } : env;
  const containers = await Promise.all(Array.from({ length: options.size }, () => Container.start(options.host, options.bundle, childEnv, options.memoryMb, { log: env.BENCH_WORKER_LOG })));
  const idle = [...containers];
  let invocations: Invocation[] = [];
  const waiting: ((container: Container) => void)[] = [];
  const acquire = (): Promise<Container> => {
    const container = idle.pop();
    return container ? Promise.resolve(container) : new Promise((resolve) => waiting.push(resolve));
  };
  const release = (container: Container) => {
    const next = waiting.shift();
    if (next) next(container);
    else idle.push(container);
  };

  return {
    async handler(event, context) {
      const container = await acquire();
      try {
        const { result, durationMs, cpuMs } = await container.invoke(event, context.functionName, context.getRemainingTimeInMillis());
        invocations.push({ durationMs, cpuMs, messages: event.Records.length });
        return (result ?? undefined) as SQSBatchResponse | undefined;
      } finally {
        release(container);
      }
    },
    takeInvocations() {
      const taken = invocations;
      invocations = [];
      return taken;
    },
    async peakMemory() {
      const peaks = await Promise.all(containers.map((container) => container.peakMemory()));
      return peaks.reduce((top, peak) => (peak.rssMb > top.rssMb ? peak : top));
    },
    async close() {
      await Promise.all(containers.map((container) => container.close()));
    },
  };
}
