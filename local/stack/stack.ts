/**
 * The whole function set on loopback: the SQS emulator with the queues serverless.yml declares,
 * the DynamoDB emulator with its ledger table, the TPNS emulator (or real TPNS), the HTTP API
 * served by the real handlers, and the worker fed like Lambda's SQS event source (serverless.yml's
 * batch size and batching window). `npm start`, the end-to-end tests and the benchmarks all start
 * it through `startLocalStack`, so they run the very same thing.
 *
 * Handlers read their settings from process.env (as in Lambda), so one process hosts one stack
 * at a time; `stop()` puts the previous environment back.
 *
 * Why hand-written: this service's own wiring and output, which no library knows (docs/architecture.md, "Why local/ is hand-written").
 */
import type { TpnsEmulator, TpnsEmulatorOptions } from '../tpns-emulator/index.js';
import { startTpnsEmulator } from '../tpns-emulator/index.js';
import { httpApiRoutes, readServerlessConfig } from '../serverless-config.js';
import type { ServerlessConfig } from '../serverless-config.js';
import { startLocalDynamo } from '../dynamodb/local-dynamo.js';
import type { LocalDynamo } from '../dynamodb/local-dynamo.js';
import { startLocalSqs } from '../sqs/fauxqs.js';
import type { LocalSqs } from '../sqs/fauxqs.js';
import type { EventSource, SqsBatchHandler } from '../sqs/event-source.js';
import type { ScheduledEvent } from 'aws-lambda';
import type { Settings } from '../../lib/config/config.js';
import { applyEnvironment, localEnvironment } from './environment.js';
import { loadHandler } from './function-loader.js';
import { createLambdaContext } from './lambda-context.js';
import { scheduledEvent, startSchedule } from './schedule.js';
import { LOOPBACK, PortInUseError, startHttpHost } from './http-host.js';
import type { AccessLogEntry, HttpHost } from './http-host.js';
import { chooseTpnsTarget } from './tpns-target.js';
import type { TpnsTarget } from './tpns-target.js';

export interface LocalStackOptions {
  /** HTTP API port; default 0 (any free port). `npm start` passes PORT (default 3000). */
  port?: number;
  /** TPNS emulator port; default 0. */
  emulatorPort?: number;
  /** SQS emulator port; default 0. */
  sqsPort?: number;
  /** DynamoDB emulator port (its fault proxy's); default 0. */
  dynamoPort?: number;
  /**
   * Variables on top of process.env, for the stack and the handlers alike (TPNS_*, LOG_LEVEL,
   * ACCOUNT_CLAIM, WORKER_RETRY_BUDGET_MS, TPNS_EMULATOR_*...). Restored by stop().
   */
  env?: Readonly<Record<string, string>>;
  /** Default: the repository's serverless.yml. */
  config?: ServerlessConfig;
  /** Emulator settings beyond the TPNS_* variables (invalid tokens, propagation delay). */
  emulator?: Pick<TpnsEmulatorOptions, 'invalidTokens' | 'propagationDelayMs' | 'maxLogEntries'>;
  /**
   * The binding queue's visibility timeout (s); default serverless.yml's (360). Tests shorten it,
   * with the worker's timeout, so a batch item failure comes back in seconds, not six minutes.
   * Keep it >= the worker's timeout, as AWS requires, or running batches get redelivered.
   */
  visibilityTimeoutSeconds?: number;
  /** The worker function's timeout (s), i.e. its deadline per batch; default serverless.yml's (60). */
  workerTimeoutSeconds?: number;
  /** Worker long-poll wait (s); default 20 like Lambda. Shorter makes stop() quicker in tests. */
  waitTimeSeconds?: number;
  /** Handlers log only errors (unless LOG_LEVEL says otherwise): for tests and benchmarks. */
  quiet?: boolean;
  /** Access log of the HTTP API, one entry per request. */
  onRequest?: (entry: AccessLogEntry) => void;
  /** A handler that threw, timed out or returned garbage; an SQS receive/delete error. */
  onError?: (error: unknown, where: string) => void;
  /** Runs the worker's `schedule` event (the sweep) at serverless.yml's rate, as `npm start` does; default off. */
  schedule?: boolean;
}

export interface LocalStack {
  /** `http://127.0.0.1:<port>` */
  apiUrl: string;
  /** The TPNS emulator; undefined when real TPNS credentials were configured. */
  emulator?: TpnsEmulator;
  tpns: TpnsTarget;
  sqs: LocalSqs;
  /** The ledger table (dynalite) behind its fault proxy: `dynamo.faults` throttles or slows it. */
  dynamo: LocalDynamo;
  worker: EventSource;
  /** What the worker and queue run with (serverless.yml's values unless overridden). */
  settings: {
    batchSize: number;
    maximumBatchingWindowSeconds: number;
    concurrency: number;
    visibilityTimeoutSeconds: number;
    maxReceiveCount: number;
    /** How often the sweep runs, when `schedule` is on. */
    sweepEverySeconds?: number;
  };
  /** The variables set for the handlers (secrets included: do not print it whole). */
  env: Readonly<Record<string, string | undefined>>;
  /** The handlers' settings as their loadConfig reads them from `env` (verify delay, sweep age...). */
  handlerSettings: Settings;
  /** Stops the worker (waiting for running batches), the API, the emulators (TPNS, SQS, DynamoDB); restores process.env. */
  stop(): Promise<void>;
}

export class StackAlreadyRunningError extends Error {
  override readonly name = 'StackAlreadyRunningError';
}

let running = false;

/** What SQS uses when a queue declares no VisibilityTimeout. */
const SQS_DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30;

async function startEmulator(options: LocalStackOptions, env: NodeJS.ProcessEnv): Promise<TpnsEmulator> {
  try {
    return await startTpnsEmulator({ ...options.emulator, port: options.emulatorPort ?? 0, host: LOOPBACK, env });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(options.emulatorPort ?? 0, 'the TPNS emulator');
    }
    throw error;
  }
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  if (running) throw new StackAlreadyRunningError('a local stack already runs in this process (handlers share process.env)');
  running = true;
  const shell: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  const cleanups: (() => Promise<void> | void)[] = [() => void (running = false)];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  try {
    const config = options.config ?? readServerlessConfig();
    const routes = httpApiRoutes(config);
    const tpns = chooseTpnsTarget(shell);
    const sqs = await startLocalSqs({
      port: options.sqsPort ?? 0,
      config,
      ...(options.visibilityTimeoutSeconds === undefined ? {} : { queueAttributes: { VisibilityTimeout: String(options.visibilityTimeoutSeconds) } }),
    });
    cleanups.push(() => sqs.close());
    const dynamo = await startLocalDynamo({ port: options.dynamoPort ?? 0, config });
    cleanups.push(() => dynamo.close());
    const emulator = tpns.kind === 'emulator' ? await startEmulator(options, shell) : undefined;
    if (emulator) cleanups.push(() => emulator.close());

    // Before any handler module loads: the logger reads its level when it is imported.
    const env: Record<string, string | undefined> = {
      ...options.env,
      ...localEnvironment(config, shell, {
        tpns: emulator ? { ...emulator.env } : {},
        sqsEndpoint: sqs.endpoint,
        queueUrl: sqs.queueUrl,
        dlqUrl: sqs.dlqUrl,
        dynamoEndpoint: dynamo.endpoint,
        tableName: dynamo.tableName,
        ...(options.quiet ? { defaultLogLevel: 'ERROR' } : {}),
      }),
    };
    cleanups.push(applyEnvironment(env));
    // A stack started earlier in this process must not leave its endpoints in the cached runtime.
    const [{ resetRuntimeForTests: forgetCachedRuntime }, { LOCAL_ERASURE_KEY, configFromEnv }] = await Promise.all([import('../../lib/config/runtime.js'), import('../../lib/config/config.js')]);
    forgetCachedRuntime();
    cleanups.push(forgetCachedRuntime);
    // Set, not left to the code's fallback, so the ready block can export it for the CLI
    // (`--via-queue`, `erasure-status`), which must key tombstones as the handlers do.
    env.ERASURE_KEY ??= LOCAL_ERASURE_KEY;
    cleanups.push(applyEnvironment({ ERASURE_KEY: env.ERASURE_KEY }));
    // The handlers' own reading of it (secrets resolved, as chooseTpnsTarget checked): what the ready block reports.
    const handlerSettings = configFromEnv(process.env).settings;

    const { startEventSource } = await import('../sqs/event-source.js');
    const worker = startEventSource({
      endpoint: sqs.endpoint,
      queueUrl: sqs.queueUrl,
      handler: await loadHandler<Parameters<SqsBatchHandler>[0], Awaited<ReturnType<SqsBatchHandler>>>(config.worker.handler),
      batchSize: config.worker.batchSize,
      maximumBatchingWindowSeconds: config.worker.maximumBatchingWindowSeconds,
      concurrency: config.worker.maximumConcurrency,
      functionName: config.worker.functionName,
      timeoutSeconds: options.workerTimeoutSeconds ?? config.worker.timeoutSeconds,
      ...(options.waitTimeSeconds === undefined ? {} : { waitTimeSeconds: options.waitTimeSeconds }),
      // Without onError the event source logs them itself (Powertools logger, WARN).
      ...(options.onError ? { onError: (error: unknown) => options.onError?.(error, 'worker') } : {}),
    });
    cleanups.push(() => worker.stop());
    const sweepEverySeconds = options.schedule ? config.worker.scheduleRateSeconds : undefined;
    if (sweepEverySeconds !== undefined) {
      const scheduled = await loadHandler<ScheduledEvent, unknown>(config.worker.handler);
      const sweep = () => scheduled(scheduledEvent(), createLambdaContext(config.worker.functionName, config.worker.timeoutSeconds));
      const schedule = startSchedule(sweep, sweepEverySeconds, (error) => options.onError?.(error, `${config.worker.functionName} (schedule)`));
      cleanups.push(() => schedule.stop());
    }

    const api: HttpHost = await startHttpHost({
      routes,
      port: options.port ?? 0,
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      onError: (error, route) => options.onError?.(error, route ? `${route.functionName} (${route.method} ${route.path})` : 'HTTP API'),
    });
    cleanups.push(() => api.close());

    const settings = {
      batchSize: config.worker.batchSize,
      maximumBatchingWindowSeconds: config.worker.maximumBatchingWindowSeconds,
      concurrency: config.worker.maximumConcurrency,
      visibilityTimeoutSeconds:
        options.visibilityTimeoutSeconds ?? Number(config.bindingQueue.attributes.VisibilityTimeout ?? SQS_DEFAULT_VISIBILITY_TIMEOUT_SECONDS),
      maxReceiveCount: config.maxReceiveCount,
      ...(sweepEverySeconds === undefined ? {} : { sweepEverySeconds }),
    };
    return { apiUrl: api.url, ...(emulator ? { emulator } : {}), tpns, sqs, dynamo, worker, settings, env, handlerSettings, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
