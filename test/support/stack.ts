/**
 * The one test stack: the TPNS emulator, fauxqs (SQS) and dynalite (DynamoDB, behind its fault
 * proxy), the environment a deployed function would get pointing at them, and optionally the
 * worker fed by a Lambda-like SQS event source. Integration, e2e, reliability, CLI and bench
 * code start their world with `startStack`.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { resetRuntimeForTests } from '../../lib/config/runtime.js';
import { startLocalDynamo } from '../../local/dynamodb/local-dynamo.js';
import type { LocalDynamo } from '../../local/dynamodb/local-dynamo.js';
import { localSqsClient } from '../../local/sqs/client.js';
import { startEventSource } from '../../local/sqs/event-source.js';
import type { EventSource, EventSourceOptions, SqsBatchHandler } from '../../local/sqs/event-source.js';
import { startLocalSqs } from '../../local/sqs/fauxqs.js';
import type { LocalSqs } from '../../local/sqs/fauxqs.js';
import { startTpnsEmulator } from '../../local/tpns-emulator/index.js';
import type { TpnsEmulator, TpnsEmulatorOptions } from '../../local/tpns-emulator/index.js';

export interface StackOptions {
  emulator?: TpnsEmulatorOptions;
  /** Binding queue attributes overriding serverless.yml's (e.g. a short VisibilityTimeout). */
  queueAttributes?: Record<string, string>;
  /** Extra environment for the functions (wins over the stack's). */
  env?: Record<string, string>;
  /** Start the worker (bind-worker handler behind an event source) with these options. */
  worker?: Partial<Omit<EventSourceOptions, 'endpoint' | 'queueUrl' | 'handler'>>;
}

export interface Stack {
  tpns: TpnsEmulator;
  sqs: LocalSqs;
  dynamo: LocalDynamo;
  worker?: EventSource;
  env: Readonly<Record<string, string>>;
  /** Starts the worker if it is not running; `handler` replaces the bind-worker run in this process (the bench's containers). */
  startWorker(options?: StackOptions['worker'] & { handler?: SqsBatchHandler }): Promise<EventSource>;
  /** Stops the worker, if running (what is queued meanwhile waits); startWorker starts a new one. */
  stopWorker(): Promise<void>;
  /**
   * Takes every message out of the dead-letter queue (default) or the binding queue: their raw
   * bodies. `waitForDelayed`: also waits for the delayed ones to become visible, and takes them.
   */
  take(queue?: 'dead-letters' | 'binding', options?: { waitForDelayed?: boolean }): Promise<string[]>;
  /** Between tests: TPNS forgets its state, faults and calls; DynamoDB its faults and their counters. */
  reset(): void;
  /** Resolves once the queue is empty, no batch runs and TPNS has applied every task. */
  quiesce(): Promise<void>;
  close(): Promise<void>;
}

let names = 0;
/** A token or account no other test of the run uses. */
export const freshName = (prefix: string): string => `${prefix}-${Date.now().toString(36)}${(names++).toString(36)}`;

/** Tests read TPNS back a second after a push, not the deployed 15 s. */
export const TEST_VERIFY_DELAY_SECONDS = 1;

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const [tpns, sqs, dynamo] = await Promise.all([
    startTpnsEmulator(options.emulator),
    startLocalSqs(options.queueAttributes ? { queueAttributes: options.queueAttributes } : {}),
    startLocalDynamo(),
  ]);
  const env = {
    ...tpns.env,
    ...sqs.env,
    ...dynamo.env,
    VERIFY_DELAY_SECONDS: String(TEST_VERIFY_DELAY_SECONDS),
    ERASURE_KEY: 'test-erasure-key',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Each test sees TPNS as it set it up, not a cool-down left by the previous test's faults.
    DIRECT_COOL_DOWN_MS: '0',
    ...options.env,
  };
  Object.assign(process.env, env);
  resetRuntimeForTests();
  let worker: EventSource | undefined;
  let client: SQSClient | undefined;
  const stack: Stack = {
    tpns,
    sqs,
    dynamo,
    env,
    get worker() {
      return worker;
    },
    async startWorker(workerOptions = options.worker ?? {}) {
      if (worker) return worker;
      const handler = workerOptions.handler ?? ((await import('../../functions/bind-worker.js')).handler as SqsBatchHandler);
      worker = startEventSource({
        endpoint: sqs.endpoint,
        queueUrl: sqs.queueUrl,
        handler,
        waitTimeSeconds: 1,
        visibilityTimeoutSeconds: 2,
        batchSize: 100,
        maximumBatchingWindowSeconds: 0,
        ...workerOptions,
      });
      return worker;
    },
    async stopWorker() {
      const running = worker;
      worker = undefined;
      await running?.stop();
    },
    async take(queue = 'dead-letters', { waitForDelayed = false } = {}) {
      client ??= localSqsClient(sqs.endpoint);
      const queueUrl = queue === 'binding' ? sqs.queueUrl : sqs.dlqUrl;
      const bodies: string[] = [];
      for (;;) {
        const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
        if (Messages.length === 0) {
          if (!waitForDelayed || (await sqs.depth()).delayed === 0) return bodies;
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        bodies.push(...Messages.map((message) => message.Body ?? ''));
        await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })) }));
      }
    },
    reset() {
      tpns.reset();
      dynamo.faults.clear();
      dynamo.faults.resetCounters();
    },
    async quiesce() {
      if (!worker) throw new Error('quiesce() needs the worker: startWorker() first');
      await worker.drained();
      await tpns.idle();
    },
    async close() {
      await worker?.stop();
      client?.destroy();
      resetRuntimeForTests();
      await Promise.all([tpns.close(), sqs.close(), dynamo.close()]);
    },
  };
  if (options.worker) await stack.startWorker(options.worker);
  return stack;
}

/** The stack with the functions logging errors only (most tests read answers, not logs); `env` may still set POWERTOOLS_LOG_LEVEL. */
export function startQuietStack(options: StackOptions = {}): Promise<Stack> {
  return startStack({ ...options, env: { POWERTOOLS_LOG_LEVEL: 'ERROR', ...options.env } });
}
