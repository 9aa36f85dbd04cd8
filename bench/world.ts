/**
 * The benchmarked system on loopback: the test stack (test/support/stack.ts: TPNS emulator,
 * fauxqs with serverless.yml's queues, dynalite with its ledger table), the API functions as built
 * bundles invoked in this process with HTTP API v2 events, and the worker bundle in separate Node
 * processes ("containers", bench/worker-pool.ts) fed by Lambda's event source (local/sqs) with
 * serverless.yml's batch size, batching window and concurrency.
 *
 * The worker runs in containers of its own rather than through Stack.startWorker (which runs the
 * handler in this process): its peak RSS must be its own, and it must not share the API
 * handlers' CPU, as it does not in Lambda.
 */
import type * as NodeHttp from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { HandlerBundle } from '../bin/build.js';
import { DynamoLedger } from '../lib/ledger/dynamo-ledger.js';
import { httpApiRoutes, readServerlessConfig } from '../local/serverless-config.js';
import type { HttpApiRoute, ServerlessConfig } from '../local/serverless-config.js';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { localSqsClient } from '../local/sqs/client.js';
import { startEventSource } from '../local/sqs/event-source.js';
import type { EventSource } from '../local/sqs/event-source.js';
import { createLambdaContext } from '../local/stack/lambda-context.js';
import { startStack } from '../test/support/stack.js';
import type { Stack } from '../test/support/stack.js';
import { apiEvent } from './events.js';
import type { ApiCall } from './events.js';
import { startWorkerPool } from './worker-pool.js';
import type { WorkerPool } from './worker-pool.js';

export type ApiFunction = 'login' | 'logout' | 'delete-account' | 'query';
type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface ApiAnswer {
  statusCode: number;
  body: Record<string, unknown>;
}

/** TPNS calls the emulator answered, by kind. */
export interface CallCounts {
  /** batchoperate: ops 2-5. */
  op: number;
  /** query: the read-backs. */
  query: number;
  itemsApplied: number;
  itemsFailed: number;
}

/** Short long-polls so a stopped event source lets go quickly. */
const WAIT_TIME_SECONDS = 1;
/** fauxqs keeps serving a long poll whose client went away until its wait ends. */
const ABANDONED_POLL_MARGIN_MS = 250;
const OP_PATH = '/v3/device/account/batchoperate';
const QUERY_PATH = '/v3/device/account/query';

/**
 * The stack's servers (dynalite's fault proxy, dynalite, the TPNS emulator, fauxqs) run in this
 * process. When the 10 000-item bulk saturates it, Node's default 5 s keep-alive timer of an
 * http.Server fires before the busy event loop has read a request already sent on the socket, and
 * the server closes it under the client (ECONNRESET "socket hang up"): measured, it failed whole
 * worker parts of 2 000 keys, which then waited for the 360 s visibility timeout. DynamoDB, SQS and
 * TPNS do not close a connection with a request on it, so the servers started here keep idle
 * connections for 2 minutes. (Reported for local/: the fault proxy could set this itself.)
 */
const LOCAL_KEEP_ALIVE_MS = 120_000;

/**
 * The emulator shares this process with dynalite and the handlers, on a 2-core box the worker
 * containers share too: while the bulk saturates it, a batchoperate call of the worker waits
 * longer than TPNS's 5 s request timeout for an answer the emulator has not had the CPU to write,
 * is retried, and the retries pile onto the same CPU. The bench counts calls; a timeout here is
 * the box's, not TPNS's, so calls may take 30 s.
 */
const LOCAL_TPNS_TIMEOUT_MS = 30_000;

async function withPatientServers<T>(start: () => Promise<T>): Promise<T> {
  const http = createRequire(import.meta.url)('node:http') as typeof NodeHttp;
  const original = http.createServer;
  http.createServer = ((...args: Parameters<typeof original>) => {
    const server = original(...args);
    server.keepAliveTimeout = LOCAL_KEEP_ALIVE_MS;
    server.headersTimeout = LOCAL_KEEP_ALIVE_MS + 5_000;
    return server;
  }) as typeof original;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    http.createServer = original;
    syncBuiltinESMExports();
  }
}

export class BenchWorld {
  #pool: WorkerPool | undefined;
  #source: EventSource | undefined;
  /** Worker invocations at once of the running pool (serverless.yml's unless a scenario asked for fewer). */
  #concurrency: number | undefined;
  #ledger: DynamoLedger | undefined;

  private constructor(
    readonly stack: Stack,
    readonly config: ServerlessConfig,
    readonly routes: HttpApiRoute[],
    private readonly handlers: Record<ApiFunction, Handler>,
    private readonly workerBundle: string,
  ) {}

  static async start(bundles: readonly HandlerBundle[], options: { workerConcurrency?: number | undefined } = {}): Promise<BenchWorld> {
    const deployed = readServerlessConfig();
    const config = options.workerConcurrency ? { ...deployed, worker: { ...deployed.worker, maximumConcurrency: options.workerConcurrency } } : deployed;
    // As in `npm start`: handlers log at WARN (set before their bundles load: the logger reads it then).
    const stack = await withPatientServers(() => startStack({ emulator: { env: {} }, env: { POWERTOOLS_LOG_LEVEL: 'WARN', TPNS_TIMEOUT_MS: String(LOCAL_TPNS_TIMEOUT_MS) } }));
    const file = (name: string) => {
      const found = bundles.find((candidate) => candidate.name === name);
      if (!found) throw new Error(`no bundle for ${name}`);
      return found.file;
    };
    const load = async (name: ApiFunction) => ((await import(pathToFileURL(file(name)).href)) as { handler: Handler }).handler;
    const handlers = { login: await load('login'), logout: await load('logout'), 'delete-account': await load('delete-account'), query: await load('query') };
    return new BenchWorld(stack, config, httpApiRoutes(config), handlers, file('bind-worker'));
  }

  get workerConcurrency(): number {
    return this.config.worker.maximumConcurrency;
  }

  /** Invokes an API function in this process, as API Gateway would, and parses its JSON answer. */
  async call(name: ApiFunction, routeKey: string, call: ApiCall, timeoutSeconds = 10): Promise<ApiAnswer> {
    const result = await this.invocation(name, routeKey, call, timeoutSeconds)();
    return { statusCode: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
  }

  /** The same, prepared: the event and context are built now, the returned function only invokes. */
  invocation(name: ApiFunction, routeKey: string, call: ApiCall, timeoutSeconds = 10): () => Promise<{ statusCode: number; body: string }> {
    const event = apiEvent(this.routes, routeKey, call);
    const context = createLambdaContext(name, timeoutSeconds);
    return async () => (await this.handlers[name](event, context)) as { statusCode: number; body: string };
  }

  /** TPNS calls so far (since the emulator's last reset). */
  counts(): CallCounts {
    const counters = this.stack.tpns.counters();
    return {
      op: counters.byPath[OP_PATH] ?? 0,
      query: counters.byPath[QUERY_PATH] ?? 0,
      itemsApplied: counters.itemsApplied,
      itemsFailed: counters.itemsFailed,
    };
  }

  /** Fresh worker containers (their peak RSS starts over) and the event source feeding them. */
  async restartWorkers(concurrency = this.workerConcurrency): Promise<void> {
    await this.stopWorkers();
    this.#concurrency = concurrency;
    this.#pool = await startWorkerPool({ bundle: this.workerBundle, size: concurrency, env: { ...process.env } });
    this.resumeWorkers();
  }

  /** Workers polling, started if they never were. */
  async ensureWorkers(): Promise<void> {
    if (!this.#pool || this.#concurrency !== this.workerConcurrency) await this.restartWorkers();
    else this.resumeWorkers();
  }

  /** Between scenarios: workers polling, the queue drained, TPNS idle, the emulator's log and counters cleared. */
  async settle(): Promise<void> {
    await this.ensureWorkers();
    await this.quiet();
    this.stack.tpns.reset();
  }

  /** The intent ledger, as the functions see it. */
  get ledger(): DynamoLedger {
    this.#ledger ??= new DynamoLedger({ tableName: this.stack.dynamo.tableName, erasureKey: this.stack.env.ERASURE_KEY ?? '', retentionDays: 30 });
    return this.#ledger;
  }

  get pool(): WorkerPool {
    if (!this.#pool) throw new Error('the workers are not started');
    return this.#pool;
  }

  /** Stops polling (what is queued meanwhile waits, as during a Lambda outage or throttling). */
  async pauseWorkers(): Promise<void> {
    if (!this.#source) return;
    await this.#source.stop();
    this.#source = undefined;
    // A message arriving during an abandoned long poll would go to nobody and stay invisible.
    await sleep(WAIT_TIME_SECONDS * 1000 + ABANDONED_POLL_MARGIN_MS);
  }

  resumeWorkers(): void {
    const pool = this.pool;
    const { worker } = this.config;
    this.#source ??= startEventSource({
      endpoint: this.stack.sqs.endpoint,
      queueUrl: this.stack.sqs.queueUrl,
      handler: pool.handler,
      batchSize: worker.batchSize,
      maximumBatchingWindowSeconds: worker.maximumBatchingWindowSeconds,
      concurrency: this.#concurrency ?? this.workerConcurrency,
      functionName: worker.functionName,
      timeoutSeconds: worker.timeoutSeconds,
      // The queue's own visibility timeout (serverless.yml's 360 s): a long batch is not handed out twice.
      waitTimeSeconds: WAIT_TIME_SECONDS,
      onError: (error) => console.error('worker:', error),
    });
  }

  /** Resolves once the queue is empty (delayed read-backs included), no batch runs and TPNS applied everything. */
  async quiet(): Promise<void> {
    if (!this.#source) throw new Error('the workers are paused: nothing would drain the queue');
    await this.#source.drained({ pollMs: 20 });
    await this.stack.tpns.idle();
  }

  /** Deletes everything queued (after a scenario the product could not finish, so it does not leak into the next). */
  async purgeQueue(): Promise<void> {
    const client = localSqsClient(this.stack.sqs.endpoint);
    try {
      await client.send(new PurgeQueueCommand({ QueueUrl: this.stack.sqs.queueUrl }));
    } finally {
      client.destroy();
    }
  }

  async stopWorkers(): Promise<void> {
    await this.pauseWorkers();
    await this.#pool?.close();
    this.#pool = undefined;
  }

  async close(): Promise<void> {
    await this.stopWorkers();
    await this.stack.close();
  }
}
