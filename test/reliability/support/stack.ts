/**
 * The reliability (and security) tests' world: test/support/stack.ts's stack (TPNS emulator,
 * fauxqs, dynalite behind its fault proxy, process.env as a deployed function gets it), plus
 * what these tests need on top: everything written to stdout/stderr captured (JSON logs, EMF
 * metrics), workers whose handler can be wrapped (crashes, pick-up delays, counting), an SQS
 * client, and the dead-letter queue drained and parsed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handler as bindWorker } from '../../../functions/bind-worker.js';
import { resetRuntimeForTests } from '../../../lib/config/runtime.js';
import { logger } from '../../../lib/observability/logger.js';
import type { LocalDynamo } from '../../../local/dynamodb/local-dynamo.js';
import { localSqsClient } from '../../../local/sqs/client.js';
import { startEventSource } from '../../../local/sqs/event-source.js';
import type { EventSource, SqsBatchHandler } from '../../../local/sqs/event-source.js';
import type { LocalSqs } from '../../../local/sqs/fauxqs.js';
import type { EmulatorAppCredentials, TpnsEmulator, TpnsEmulatorOptions } from '../../../local/tpns-emulator/index.js';
import { startStack } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';
import { captureOutput } from '../../support/output.js';
import type { CapturedOutput } from '../../support/output.js';

export interface ReliabilityStackOptions {
  invalidTokens?: readonly string[];
  /** Binding-queue attributes over serverless.yml's (e.g. a short VisibilityTimeout). */
  queueAttributes?: Record<string, string>;
  /** Extra environment for the functions (TPNS_TIMEOUT_MS, log level, MAX_VERIFY_ATTEMPTS...). */
  env?: Record<string, string>;
  /** Emulator app credentials (e.g. a distinctive secret to grep logs for). */
  apps?: Partial<Record<'android' | 'ios', EmulatorAppCredentials>>;
  /** More emulator options (apply window, request log size). */
  emulator?: TpnsEmulatorOptions;
  /** Capture stdout/stderr (default true: logs and metrics are read from `output`, and kept off the terminal). */
  capture?: boolean;
}

export interface WorkerOptions {
  /** Wraps the real worker (e.g. to count redeliveries, delay or crash it). */
  wrap?: (worker: SqsBatchHandler) => SqsBatchHandler;
  concurrency?: number;
  visibilityTimeoutSeconds?: number;
  /** The Lambda timeout the worker's context reports. */
  timeoutSeconds?: number;
  batchSize?: number;
  /** Where the worker's event source polls (e.g. an SQS fault proxy, with the queue URL on it); default fauxqs itself. */
  endpoint?: string;
  queueUrl?: string;
}

export interface ReliabilityStack {
  tpns: TpnsEmulator;
  sqs: LocalSqs;
  dynamo: LocalDynamo;
  /** The underlying test/support stack. */
  base: Stack;
  client: SQSClient;
  /** Everything written to stdout/stderr since the stack started (logs and EMF metrics); empty without capture. */
  output: CapturedOutput;
  startWorker(options?: WorkerOptions): EventSource;
  /** Waits until every worker started here has drained the queue and TPNS has applied every task. */
  quiesce(): Promise<void>;
  /** Receives and deletes every dead letter, parsed. */
  drainDeadLetters(): Promise<unknown[]>;
  close(): Promise<void>;
}

export const realWorker: SqsBatchHandler = (event: SQSEvent, context: Context) => bindWorker(event, context) as Promise<SQSBatchResponse>;

const noCapture: CapturedOutput = { lines: () => [], json: () => [], text: () => '', stop: () => undefined };

export async function startReliabilityStack(options: ReliabilityStackOptions = {}): Promise<ReliabilityStack> {
  const emulator: TpnsEmulatorOptions = {
    ...options.emulator,
    ...(options.apps ? { apps: options.apps } : {}),
    ...(options.invalidTokens ? { invalidTokens: options.invalidTokens } : {}),
  };
  const base = await startStack({
    emulator,
    ...(options.queueAttributes ? { queueAttributes: options.queueAttributes } : {}),
    env: { POWERTOOLS_LOG_LEVEL: 'WARN', ...options.env },
  });
  const { tpns, sqs, dynamo } = base;
  resetRuntimeForTests();
  // The logger read POWERTOOLS_LOG_LEVEL when it was imported, before this environment existed.
  logger.setLogLevel((process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN') as Parameters<typeof logger.setLogLevel>[0]);
  // Not passed on: a soak writes megabytes a failing test should not print.
  const output = options.capture === false ? noCapture : captureOutput({ passThrough: false });
  const client = localSqsClient(sqs.endpoint);
  const workers: EventSource[] = [];
  const running = new Set<EventSource>();

  return {
    tpns,
    sqs,
    dynamo,
    base,
    client,
    output,
    startWorker(worker = {}) {
      const source = startEventSource({
        endpoint: worker.endpoint ?? sqs.endpoint,
        queueUrl: worker.queueUrl ?? sqs.queueUrl,
        handler: worker.wrap ? worker.wrap(realWorker) : realWorker,
        batchSize: worker.batchSize ?? 100,
        concurrency: worker.concurrency ?? 1,
        waitTimeSeconds: 1,
        visibilityTimeoutSeconds: worker.visibilityTimeoutSeconds ?? 2,
        ...(worker.timeoutSeconds !== undefined ? { timeoutSeconds: worker.timeoutSeconds } : {}),
      });
      workers.push(source);
      running.add(source);
      const stop = source.stop.bind(source);
      source.stop = async () => {
        running.delete(source);
        await stop();
      };
      return source;
    },
    async quiesce() {
      const [first] = running;
      if (!first) throw new Error('quiesce() needs a running worker');
      // Twice: a task TPNS applies late (a slowed call) can make a read-back repair once more.
      for (let round = 0; round < 2; round++) {
        await first.drained();
        await tpns.idle();
        if (round === 0) await sleep(300);
      }
    },
    async drainDeadLetters() {
      return (await base.take('dead-letters')).map((body) => JSON.parse(body) as unknown);
    },
    async close() {
      await Promise.all([...running].map((worker) => worker.stop()));
      client.destroy();
      output.stop();
      await base.close();
    },
  };
}

