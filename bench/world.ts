/**
 * The benchmarked system on loopback: the functions built as serverless.yml deploys them (plus the
 * bare equivalent, bench/bare.ts), the test stack (test/support/stack.ts: TPNS emulator, fauxqs
 * with serverless.yml's queues, dynalite with its ledger table), the API functions invoked in this
 * process with the HTTP API v2 events API Gateway would send, and the worker bundle in containers
 * of its own (bench/containers.ts) fed by Lambda's event source (local/sqs) with serverless.yml's
 * batch size, batching window and concurrency.
 *
 * The worker runs in containers rather than through Stack.startWorker (which runs the handler in
 * this process): its peak RSS must be its own, and it must not share the API handlers' CPU, as it
 * does not in Lambda.
 */
import type * as NodeHttp from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context, SQSEvent } from 'aws-lambda';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { buildHandlers, handlerEntries } from '../bin/build.js';
import type { HandlerBundle } from '../bin/build.js';
import { DEFAULT_ADMIN_SCOPE } from '../lib/config/config.js';
import { DynamoLedger } from '../lib/ledger/dynamo-ledger.js';
import type { KeyMessage } from '../lib/queue/messages.js';
import { httpApiRoutes, readServerlessConfig } from '../local/serverless-config.js';
import type { HttpApiRoute, ServerlessConfig } from '../local/serverless-config.js';
import { localSqsClient } from '../local/sqs/client.js';
import { buildHttpApiEvent, newRequestId } from '../local/stack/api-gateway-event.js';
import type { GatewayHttpEvent } from '../local/stack/api-gateway-event.js';
import { createLambdaContext } from '../local/stack/lambda-context.js';
import { sqsEvent, sqsRecord } from '../test/support/sqs-records.js';
import { startStack } from '../test/support/stack.js';
import type { Stack } from '../test/support/stack.js';
import { buildHost, Container, startWorkerPool } from './containers.js';
import type { PeakMemory, WorkerPool } from './containers.js';
import type { BenchOptions } from './options.js';

/** The deployed functions, by bundle name. */
export const FUNCTIONS = ['login', 'logout', 'delete-account', 'query', 'bind-worker'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];
/** The bare equivalent's bundle (bench/bare.ts exports its handler). */
export const BARE = 'bare';
const BARE_ENTRY = fileURLToPath(new URL('./bare.ts', import.meta.url));

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

export interface ApiCall {
  /** The signed-in account (the JWT's `sub`). */
  account: string;
  admin?: boolean;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

/** serverless.yml's route (function, timeout, memory) for `routeKey` (`PUT /v1/me/devices/{token}`). */
function routeOf(routes: readonly HttpApiRoute[], routeKey: string): HttpApiRoute {
  const route = routes.find((candidate) => `${candidate.method} ${candidate.path}` === routeKey);
  if (!route) throw new Error(`serverless.yml has no route ${routeKey}`);
  return route;
}

/** An HTTP API v2 event for `routeKey` (`PUT /v1/me/devices/{token}`), as API Gateway would send it. */
function apiEvent(routes: readonly HttpApiRoute[], routeKey: string, call: ApiCall): GatewayHttpEvent {
  const [method = '', path = ''] = routeKey.split(' ');
  const route = routeOf(routes, routeKey);
  const pathParameters = call.pathParameters ?? {};
  const rawPath = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathParameters[name] ?? ''));
  const query = new URLSearchParams(call.query ?? {}).toString();
  const body = call.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(call.body));
  const now = Math.floor(Date.now() / 1000);
  return buildHttpApiEvent(
    {
      method,
      url: query ? `${rawPath}?${query}` : rawPath,
      headers: { host: 'api.example.com', 'content-type': 'application/json', 'user-agent': 'bench' },
      body,
      sourceIp: '127.0.0.1',
      httpVersion: '1.1',
    },
    { route, routeKey, pathParameters },
    newRequestId(),
    {
      claims: { sub: call.account, iat: now, exp: now + 3600, ...(call.admin ? { scope: DEFAULT_ADMIN_SCOPE } : {}) },
      scopes: null,
    },
  );
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

function bundleOf(bundles: readonly HandlerBundle[], name: string): HandlerBundle {
  const found = bundles.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no bundle ${name}`);
  return found;
}

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
  /** Worker invocations at once of the running pool (serverless.yml's unless a scenario asked for fewer). */
  #concurrency: number | undefined;
  #ledger: DynamoLedger | undefined;

  private constructor(
    readonly stack: Stack,
    readonly config: ServerlessConfig,
    readonly routes: HttpApiRoute[],
    /** Every function's bundle and the bare equivalent's, as built. */
    readonly bundles: readonly HandlerBundle[],
    /** bench/container-host.ts, built. */
    readonly host: string,
    private readonly handlers: Record<ApiFunction, Handler>,
  ) {}

  /** Builds the bundles into `distDir` and starts the stack. */
  static async start(options: Pick<BenchOptions, 'distDir' | 'workerConcurrency'>): Promise<BenchWorld> {
    const [{ bundles }, host] = await Promise.all([buildHandlers({ outDir: options.distDir, entries: [...handlerEntries(), BARE_ENTRY] }), buildHost(options.distDir)]);
    const deployed = readServerlessConfig();
    const config = options.workerConcurrency ? { ...deployed, worker: { ...deployed.worker, maximumConcurrency: options.workerConcurrency } } : deployed;
    // As in `npm start`: handlers log at WARN (set before their bundles load: the logger reads it then).
    const stack = await withPatientServers(() => startStack({ emulator: { env: {} }, env: { POWERTOOLS_LOG_LEVEL: 'WARN', TPNS_TIMEOUT_MS: String(LOCAL_TPNS_TIMEOUT_MS) } }));
    const file = (name: string) => bundleOf(bundles, name).file;
    const load = async (name: ApiFunction) => ((await import(pathToFileURL(file(name)).href)) as { handler: Handler }).handler;
    const handlers = { login: await load('login'), logout: await load('logout'), 'delete-account': await load('delete-account'), query: await load('query') };
    return new BenchWorld(stack, config, httpApiRoutes(config), bundles, host, handlers);
  }

  bundle(name: string): HandlerBundle {
    return bundleOf(this.bundles, name);
  }

  route(routeKey: string): HttpApiRoute {
    return routeOf(this.routes, routeKey);
  }

  /** serverless.yml's memorySize of the function a bundle is named after (`delete-account` -> `deleteAccount`). */
  memoryOf(name: FunctionName): number {
    const key = name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
    if (this.config.worker.functionName === key) return this.config.worker.memoryMb;
    const route = this.routes.find((candidate) => candidate.functionName === key);
    if (!route) throw new Error(`serverless.yml has no function ${key}`);
    return route.memoryMb;
  }

  apiEvent(routeKey: string, call: ApiCall): GatewayHttpEvent {
    return apiEvent(this.routes, routeKey, call);
  }

  /** The SQS event of key messages as Lambda's event source delivers them from the binding queue. */
  sqsEvent(messages: readonly KeyMessage[]): SQSEvent {
    return sqsEvent(messages.map((message) => sqsRecord(message, { eventSourceARN: this.stack.sqs.queueArn })));
  }

  get workerConcurrency(): number {
    return this.config.worker.maximumConcurrency;
  }

  /** Invokes an API function in this process, as API Gateway would, and parses its JSON answer. */
  async call(name: ApiFunction, routeKey: string, call: ApiCall, timeoutSeconds = 10): Promise<ApiAnswer> {
    const result = await this.invocation(name, routeKey, call, timeoutSeconds)();
    return { statusCode: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
  }

  /**
   * Invokes the function of `routeKey` in a fresh container of its own (its serverless.yml memory),
   * for what this process cannot measure apart from the servers it hosts: the invocation's CPU
   * time and peak memory.
   */
  async callInContainer(routeKey: string, call: ApiCall, timeoutSeconds: number): Promise<{ answer: ApiAnswer; durationMs: number; cpuMs: number; memory: PeakMemory; route: HttpApiRoute }> {
    const route = this.route(routeKey);
    // `functions/logout.handler` is the bundle `logout`.
    const bundle = route.handler.replace(/^functions\//, '').replace(/\.\w+$/, '');
    const container = await Container.start(this.host, this.bundle(bundle).file, process.env, route.memoryMb);
    try {
      const { result, durationMs, cpuMs } = await container.invoke(this.apiEvent(routeKey, call), route.functionName, timeoutSeconds * 1000);
      const { statusCode, body } = result as { statusCode: number; body: string };
      return { answer: { statusCode, body: JSON.parse(body) as Record<string, unknown> }, durationMs, cpuMs, memory: await container.peakMemory(), route };
    } finally {
      await container.close();
    }
  }

  /** The same, prepared: the event and context are built now, the returned function only invokes. */
  invocation(name: ApiFunction, routeKey: string, call: ApiCall, timeoutSeconds = 10): () => Promise<{ statusCode: number; body: string }> {
    const event = this.apiEvent(routeKey, call);
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
    this.#pool = await startWorkerPool({ host: this.host, bundle: this.bundle('bind-worker').file, size: concurrency, memoryMb: this.config.worker.memoryMb, env: { ...process.env } });
    await this.resumeWorkers();
  }

  /** Workers polling, started if they never were. */
  async ensureWorkers(): Promise<void> {
    if (!this.#pool || this.#concurrency !== this.workerConcurrency) await this.restartWorkers();
    else await this.resumeWorkers();
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
    if (!this.stack.worker) return;
    await this.stack.stopWorker();
    // A message arriving during an abandoned long poll would go to nobody and stay invisible.
    await sleep(WAIT_TIME_SECONDS * 1000 + ABANDONED_POLL_MARGIN_MS);
  }

  async resumeWorkers(): Promise<void> {
    const pool = this.pool;
    const { worker } = this.config;
    await this.stack.startWorker({
      handler: pool.handler,
      batchSize: worker.batchSize,
      maximumBatchingWindowSeconds: worker.maximumBatchingWindowSeconds,
      concurrency: this.#concurrency ?? this.workerConcurrency,
      functionName: worker.functionName,
      timeoutSeconds: worker.timeoutSeconds,
      // The queue's own visibility timeout (serverless.yml's 360 s), not the tests' 2 s: a long batch is not handed out twice.
      visibilityTimeoutSeconds: undefined,
      waitTimeSeconds: WAIT_TIME_SECONDS,
      onError: (error) => console.error('worker:', error),
    });
  }

  /** Resolves once the queue is empty (delayed read-backs included), no batch runs and TPNS applied everything. */
  async quiet(): Promise<void> {
    if (!this.stack.worker) throw new Error('the workers are paused: nothing would drain the queue');
    await this.stack.worker.drained({ pollMs: 20 });
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

  /** After a scenario failed: no workers, nothing queued, no fault left for the next one. */
  async recover(): Promise<void> {
    await this.stopWorkers();
    await this.purgeQueue();
    this.stack.tpns.clearFaults();
  }

  async close(): Promise<void> {
    await this.stopWorkers();
    await this.stack.close();
  }
}
