/**
 * The whole function set in one process for reliability and security tests: the TPNS emulator,
 * fauxqs with the queues serverless.yml declares, process.env as a deployed function gets it,
 * and (optionally) the real bind worker fed by the local SQS event source.
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handler as bindWorker } from '../../../functions/bind-worker.js';
import { resetRuntimeForTests } from '../../../lib/config/runtime.js';
import { logger } from '../../../lib/observability/logger.js';
import { localSqsClient } from '../../../local/sqs/client.js';
import { startEventSource } from '../../../local/sqs/event-source.js';
import type { EventSource, SqsBatchHandler } from '../../../local/sqs/event-source.js';
import type { LocalSqs } from '../../../local/sqs/fauxqs.js';
import type { EmulatorAppCredentials, TpnsEmulator } from '../../../local/tpns-emulator/index.js';
import { startStack } from '../../integration/functions/harness.js';
import { captureOutput } from './capture.js';
import type { CapturedOutput } from './capture.js';

export interface StackOptions {
  invalidTokens?: readonly string[];
  /** Binding-queue attributes over serverless.yml's (e.g. a short VisibilityTimeout). */
  queueAttributes?: Record<string, string>;
  /** Extra environment for the functions (TPNS_TIMEOUT_MS, WORKER_RETRY_BUDGET_MS, log level...). */
  env?: Record<string, string>;
  /** Emulator app credentials (e.g. a distinctive secret to grep logs for). */
  apps?: Partial<Record<'android' | 'ios', EmulatorAppCredentials>>;
}

export interface WorkerOptions {
  /** Wraps the real worker (e.g. to count redeliveries or to crash it). */
  wrap?: (worker: SqsBatchHandler) => SqsBatchHandler;
  concurrency?: number;
  visibilityTimeoutSeconds?: number;
  /** The Lambda timeout the worker's context reports (its deadline is this minus its reserve). */
  timeoutSeconds?: number;
}

export interface ReliabilityStack {
  tpns: TpnsEmulator;
  sqs: LocalSqs;
  client: SQSClient;
  /** Everything written to stdout/stderr since the stack started (logs and EMF metrics). */
  output: CapturedOutput;
  startWorker(options?: WorkerOptions): EventSource;
  /** Receives and deletes every dead letter, parsed. */
  drainDeadLetters(): Promise<unknown[]>;
  close(): Promise<void>;
}

export const realWorker: SqsBatchHandler = (event: SQSEvent, context: Context) =>
  bindWorker(event, context) as Promise<SQSBatchResponse>;

export async function startReliabilityStack(options: StackOptions = {}): Promise<ReliabilityStack> {
  // The handlers' harness starts both emulators and points process.env at them; its emulator
  // takes its app credentials from process.env, so distinctive secrets go there first.
  for (const [platform, app] of Object.entries(options.apps ?? {})) {
    process.env[`TPNS_${platform.toUpperCase()}_ACCESS_ID`] = app.accessId;
    process.env[`TPNS_${platform.toUpperCase()}_SECRET_KEY`] = app.secretKey;
  }
  const { tpns, sqs } = await startStack(options.queueAttributes ? { queueAttributes: options.queueAttributes } : {});
  if (options.invalidTokens) tpns.setInvalidTokens(options.invalidTokens);
  // Metrics on (the harness turns them off; single metrics read the variable when created).
  Object.assign(process.env, { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'false', ...options.env });
  resetRuntimeForTests();
  // The logger read POWERTOOLS_LOG_LEVEL when it was imported, before this environment existed.
  logger.setLogLevel((process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN') as Parameters<typeof logger.setLogLevel>[0]);
  const output = captureOutput();
  const client = localSqsClient(sqs.endpoint);
  const workers: EventSource[] = [];

  return {
    tpns,
    sqs,
    client,
    output,
    startWorker(worker = {}) {
      const source = startEventSource({
        endpoint: sqs.endpoint,
        queueUrl: sqs.queueUrl,
        handler: worker.wrap ? worker.wrap(realWorker) : realWorker,
        batchSize: sqs.config.worker.batchSize,
        concurrency: worker.concurrency ?? sqs.config.worker.maximumConcurrency,
        waitTimeSeconds: 1,
        ...(worker.visibilityTimeoutSeconds !== undefined ? { visibilityTimeoutSeconds: worker.visibilityTimeoutSeconds } : {}),
        ...(worker.timeoutSeconds !== undefined ? { timeoutSeconds: worker.timeoutSeconds } : {}),
      });
      workers.push(source);
      return source;
    },
    async drainDeadLetters() {
      const letters: unknown[] = [];
      for (;;) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
        );
        if (Messages.length === 0) return letters;
        for (const message of Messages) {
          letters.push(JSON.parse(message.Body ?? 'null'));
          await client.send(new DeleteMessageCommand({ QueueUrl: sqs.dlqUrl, ReceiptHandle: message.ReceiptHandle }));
        }
      }
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.stop()));
      client.destroy();
      resetRuntimeForTests();
      await Promise.all([tpns.close(), sqs.close()]);
      output.stop();
    },
  };
}

/** Every queued message's body, visible, delayed or in flight (fauxqs' non-destructive inspection). */
export async function queuedBodies(sqs: LocalSqs): Promise<string[]> {
  const name = sqs.queueUrl.split('/').pop() ?? '';
  const answer = await fetch(`${sqs.endpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
  if (!answer.ok) throw new Error(`fauxqs inspection answered ${answer.status}`);
  const { messages } = (await answer.json()) as {
    messages: { ready: { body: string }[]; delayed: { body: string }[]; inflight: { message: { body: string } }[] };
  };
  return [...messages.ready.map((m) => m.body), ...messages.delayed.map((m) => m.body), ...messages.inflight.map((m) => m.message.body)];
}
