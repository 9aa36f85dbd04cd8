/**
 * The benchmarked system on loopback: the TPNS emulator and fauxqs (with the queues serverless.yml
 * declares) in processes of their own, as both are remote services in production, the API handlers as built bundles invoked in this process with HTTP API v2 events,
 * and the worker bundle in separate processes fed by Lambda's event source (local/sqs).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { HandlerBundle } from '../bin/build.js';
import { workerSettingsFromEnv } from '../lib/worker/settings.js';
import { httpApiRoutes, readServerlessConfig } from '../local/serverless-config.js';
import type { HttpApiRoute, ServerlessConfig } from '../local/serverless-config.js';
import { startEventSource } from '../local/sqs/event-source.js';
import type { EventSource } from '../local/sqs/event-source.js';
import { applyEnvironment, localEnvironment } from '../local/stack/environment.js';
import { createLambdaContext } from '../local/stack/lambda-context.js';
import { apiEvent } from './events.js';
import type { ApiCall } from './events.js';
import { startEmulatorProcess } from './emulator-process.js';
import type { EmulatorProcess } from './emulator-process.js';
import type { RawTarget } from './raw-tpns.js';
import { startSqsProcess } from './sqs-process.js';
import type { SqsProcess } from './sqs-process.js';
import { startWorkerPool } from './worker-pool.js';
import type { WorkerPool } from './worker-pool.js';

export type ApiFunction = 'login' | 'logout' | 'delete-account' | 'query';
type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface ApiAnswer {
  statusCode: number;
  body: Record<string, unknown>;
}

/** The worker side: containers, and the event source polling for them (which can be paused). */
export class Workers {
  #source: EventSource | undefined;

  constructor(
    readonly pool: WorkerPool,
    private readonly startSource: (pool: WorkerPool) => EventSource,
  ) {
    this.#source = startSource(pool);
  }

  /** Stops polling (what is queued meanwhile waits, as during a Lambda outage or throttling). */
  async pause(): Promise<void> {
    if (!this.#source) return;
    await this.#source.stop();
    this.#source = undefined;
    // fauxqs keeps serving a long poll whose client went away until its wait ends: a message
    // arriving meanwhile would go to nobody and stay invisible for the visibility timeout.
    await sleep(WAIT_TIME_SECONDS * 1000 + ABANDONED_POLL_MARGIN_MS);
  }

  resume(): void {
    this.#source ??= this.startSource(this.pool);
  }

  /** Resolves when the queue is empty and no batch runs. */
  async drained(): Promise<void> {
    if (!this.#source) throw new Error('the workers are paused');
    await this.#source.drained({ pollMs: 20 });
  }

  async stop(): Promise<void> {
    await this.pause();
    await this.pool.close();
  }
}

/** A failed message comes back in seconds rather than the deployed 6 minutes (none fail when all goes well). */
const VISIBILITY_TIMEOUT_SECONDS = 30;
/** Short long-polls so a stopped source lets go quickly. */
const WAIT_TIME_SECONDS = 1;
const ABANDONED_POLL_MARGIN_MS = 250;

export class BenchStack {
  private constructor(
    readonly config: ServerlessConfig,
    readonly routes: HttpApiRoute[],
    readonly emulator: EmulatorProcess,
    readonly sqs: SqsProcess,
    private readonly handlers: Record<ApiFunction, Handler>,
    private readonly workerBundle: string,
    private readonly restoreEnv: () => void,
  ) {}

  static async start(bundles: readonly HandlerBundle[], options: { workerConcurrency?: number | undefined } = {}): Promise<BenchStack> {
    const deployed = readServerlessConfig();
    const config = options.workerConcurrency
      ? { ...deployed, worker: { ...deployed.worker, maximumConcurrency: options.workerConcurrency } }
      : deployed;
    const emulator = await startEmulatorProcess();
    const sqs = await startSqsProcess({ VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) });
    // As in Lambda: the handlers read process.env, set before their bundles load.
    const restoreEnv = applyEnvironment(
      localEnvironment(config, process.env, { tpns: { ...emulator.env }, sqsEndpoint: sqs.endpoint, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl }),
    );
    const bundle = (name: string) => {
      const found = bundles.find((candidate) => candidate.name === name);
      if (!found) throw new Error(`no bundle for ${name}`);
      return found.file;
    };
    const load = async (name: ApiFunction) =>
      ((await import(pathToFileURL(bundle(name)).href)) as { handler: Handler }).handler;
    const handlers = {
      login: await load('login'),
      logout: await load('logout'),
      'delete-account': await load('delete-account'),
      query: await load('query'),
    };
    return new BenchStack(config, httpApiRoutes(config), emulator, sqs, handlers, bundle('bind-worker'), restoreEnv);
  }

  /** Concurrent worker invocations (serverless.yml's maximumConcurrency). */
  get workerConcurrency(): number {
    return this.config.worker.maximumConcurrency;
  }

  /** TPNS calls in flight at most: worker invocations x the worker's client's calls per operation (WORKER_TPNS_CONCURRENCY). */
  get tpnsConcurrency(): number {
    return this.workerConcurrency * workerSettingsFromEnv(process.env).tpnsConcurrency;
  }

  get raw(): RawTarget {
    return { endpoint: this.emulator.url, apps: this.emulator.apps };
  }

  /** Invokes an API function in this process, as API Gateway would, and parses its JSON answer. */
  async call(name: ApiFunction, routeKey: string, call: ApiCall): Promise<ApiAnswer> {
    const result = await this.invocation(name, routeKey, call)();
    return { statusCode: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
  }

  /** The same, prepared: the event and context are built now, the returned function only invokes. */
  invocation(name: ApiFunction, routeKey: string, call: ApiCall): () => Promise<{ statusCode: number; body: string }> {
    const event = apiEvent(this.routes, routeKey, call);
    const context = createLambdaContext(name, 10);
    return async () => (await this.handlers[name](event, context)) as { statusCode: number; body: string };
  }

  async startWorkers(): Promise<Workers> {
    const pool = await startWorkerPool({ bundle: this.workerBundle, size: this.workerConcurrency, env: { ...process.env } });
    return new Workers(pool, (containers) => this.startSource(containers));
  }

  /** An event source feeding `pool` (a stopped one cannot restart: start another). */
  private startSource(pool: WorkerPool): EventSource {
    return startEventSource({
      endpoint: this.sqs.endpoint,
      queueUrl: this.sqs.queueUrl,
      handler: pool.handler,
      batchSize: this.config.worker.batchSize,
      concurrency: this.workerConcurrency,
      functionName: this.config.worker.functionName,
      timeoutSeconds: this.config.worker.timeoutSeconds,
      waitTimeSeconds: WAIT_TIME_SECONDS,
      onError: (error) => console.error('worker:', error),
    });
  }

  async close(): Promise<void> {
    this.restoreEnv();
    await this.sqs.close();
    await this.emulator.close();
  }
}
