/**
 * The worker as Lambda runs it: each "container" is a separate Node process holding only the
 * bind-worker bundle, handling one batch at a time. The event source (local/sqs) polls in the
 * bench process and hands each batch to a free container over IPC, so a container's RSS is the
 * worker's own, not the harness's.
 */
import { fork } from 'node:child_process';
import { openSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { SqsBatchHandler } from '../local/sqs/event-source.js';

const HOST = fileURLToPath(new URL('./child/worker-host.mjs', import.meta.url));
/** A container asked to exit that has not after this long is killed. */
const EXIT_GRACE_MS = 2_000;

interface Reply {
  id?: number;
  ready?: boolean;
  result?: SQSBatchResponse | null;
  /** The handler's own duration (what Lambda bills), ms. */
  durationMs?: number;
  error?: string;
  maxRssKb?: number;
  peakHeapMb?: number;
  peakHeapUsedMb?: number;
  peakExternalMb?: number;
  cpuMs?: number;
}

class Container {
  #nextId = 0;
  readonly #pending = new Map<number, (reply: Reply) => void>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => {
      if (reply.id === undefined) return;
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
  }

  static async start(bundle: string, env: NodeJS.ProcessEnv): Promise<Container> {
    // The pinned Node (npm scripts put node_modules/.bin first), without tsx: only the bundle runs there.
    // BENCH_WORKER_LOG=<file> keeps the containers' logs (with BENCH_WORKER_LOG_LEVEL=INFO: every batch's counts).
    const log = env.BENCH_WORKER_LOG ? openSync(env.BENCH_WORKER_LOG, 'a') : 'ignore';
    const childEnv = env.BENCH_WORKER_LOG_LEVEL ? { ...env, POWERTOOLS_LOG_LEVEL: env.BENCH_WORKER_LOG_LEVEL } : env;
    const child = fork(HOST, [bundle], { execPath: process.execPath, execArgv: [], env: childEnv, stdio: ['ignore', log, 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`worker container exited with ${code} before it was ready`)));
      child.once('message', () => resolve());
    });
    child.removeAllListeners('exit');
    return new Container(child);
  }

  request(message: Record<string, unknown>): Promise<Reply> {
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.child.send({ ...message, id });
    });
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
  messages: number;
}

export interface WorkerPool {
  /** The SQS handler to give the event source: runs the batch in a free container. */
  handler: SqsBatchHandler;
  /** The invocations since the last call. */
  takeInvocations(): Invocation[];
  /** The largest peak RSS of any container so far (MB). */
  peakRssMb(): Promise<number>;
  /** The container with the largest peak RSS: its RSS and the largest V8 heap (total, used) and external memory it reported after an invocation (MB). */
  peakMemory(): Promise<{ rssMb: number; heapTotalMb: number; heapUsedMb: number; externalMb: number }>;
  /** CPU time all containers used so far (ms). */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

export async function startWorkerPool(options: { bundle: string; size: number; env: NodeJS.ProcessEnv }): Promise<WorkerPool> {
  const containers = await Promise.all(Array.from({ length: options.size }, () => Container.start(options.bundle, options.env)));
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

  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse | undefined> => {
    const container = await acquire();
    try {
      const { getRemainingTimeInMillis, done: _done, fail: _fail, succeed: _succeed, ...fields } = context;
      const reply = await container.request({ event, context: fields, remainingMs: getRemainingTimeInMillis() });
      if (reply.error !== undefined) throw new Error(`worker invocation failed: ${reply.error}`);
      invocations.push({ durationMs: reply.durationMs ?? 0, messages: event.Records.length });
      return reply.result ?? undefined;
    } finally {
      release(container);
    }
  };

  return {
    handler,
    takeInvocations() {
      const taken = invocations;
      invocations = [];
      return taken;
    },
    async peakMemory() {
      const replies = await Promise.all(containers.map((container) => container.request({ rss: true })));
      const top = replies.reduce((best, reply) => ((reply.maxRssKb ?? 0) > (best.maxRssKb ?? 0) ? reply : best));
      return { rssMb: (top.maxRssKb ?? 0) / 1024, heapTotalMb: top.peakHeapMb ?? 0, heapUsedMb: top.peakHeapUsedMb ?? 0, externalMb: top.peakExternalMb ?? 0 };
    },
    async peakRssMb() {
      const replies = await Promise.all(containers.map((container) => container.request({ rss: true })));
      return Math.max(...replies.map((reply) => (reply.maxRssKb ?? 0) / 1024));
    },
    async cpuMs() {
      const replies = await Promise.all(containers.map((container) => container.request({ rss: true })));
      return replies.reduce((sum, reply) => sum + (reply.cpuMs ?? 0), 0);
    },
    async close() {
      await Promise.all(containers.map((container) => container.close()));
    },
  };
}
