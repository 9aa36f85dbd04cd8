/**
 * The worker's real surroundings for integration tests: the test stack (fauxqs with the queues
 * serverless.yml declares, dynalite behind its fault proxy, the TPNS emulator), the runtime the
 * deployed worker builds from that environment, SQS events built from v2 key messages (to call
 * `reconcileBatch` directly), Lambda's event source for the deployed handler, and the
 * dead-letter queue read back.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { handler } from '../../../functions/bind-worker.js';
import { loadConfig } from '../../../lib/config/config.js';
import { createRuntime } from '../../../lib/config/runtime.js';
import type { Runtime } from '../../../lib/config/runtime.js';
import { deadLetterSchema } from '../../../lib/queue/dead-letter.js';
import type { DeadLetter } from '../../../lib/queue/dead-letter.js';
import type { KeyMessage, ReconcileKey } from '../../../lib/queue/messages.js';
import { localSqsClient } from '../../../local/sqs/client.js';
import { startEventSource } from '../../../local/sqs/event-source.js';
import type { EventSource, EventSourceOptions, SqsBatchHandler } from '../../../local/sqs/event-source.js';
import { startQuietStack } from '../../support/stack.js';
import type { Stack, StackOptions } from '../../support/stack.js';

export interface WorkerHarness {
  stack: Stack;
  /** The runtime the deployed worker builds from this environment (real TPNS client, ledger, queues). */
  runtime: Runtime;
  /** Sends raw bodies to the binding queue. */
  send(bodies: readonly (string | KeyMessage)[], delaySeconds?: number): Promise<void>;
  /** Starts Lambda's event source with serverless.yml's batching, failures back after 3 s. */
  feed(worker?: SqsBatchHandler, options?: Partial<EventSourceOptions>): EventSource;
  /** Receives and deletes everything in the dead-letter queue: the worker's letters, and what SQS redrove. */
  takeDeadLetters(): Promise<{ letters: DeadLetter[]; redriven: unknown[] }>;
  /** Receives and deletes everything in the binding queue (follow-ups a direct reconcileBatch queued), parsed. */
  takeQueued(options?: { waitForDelayed?: boolean }): Promise<KeyMessage[]>;
  /** Stops every event source started by feed(). */
  stopFeeding(): Promise<void>;
  close(): Promise<void>;
}

/** The deployed handler, as Lambda invokes it. */
export const deployedWorker: SqsBatchHandler = (event, context) => handler(event, context);

export async function startWorkerHarness(options: StackOptions = {}): Promise<WorkerHarness> {
  const stack = await startQuietStack(options);
  const runtime = createRuntime(await loadConfig(process.env));
  const client = localSqsClient(stack.sqs.endpoint);
  const sources: EventSource[] = [];
  return {
    stack,
    runtime,
    async send(bodies, delaySeconds) {
      for (const body of bodies) {
        await client.send(
          new SendMessageCommand({
            QueueUrl: stack.sqs.queueUrl,
            MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
            ...(delaySeconds ? { DelaySeconds: delaySeconds } : {}),
          }),
        );
      }
    },
    feed(worker = deployedWorker, overrides = {}) {
      const { config } = stack.sqs;
      const source = startEventSource({
        endpoint: stack.sqs.endpoint,
        queueUrl: stack.sqs.queueUrl,
        handler: worker,
        batchSize: config.worker.batchSize,
        maximumBatchingWindowSeconds: config.worker.maximumBatchingWindowSeconds,
        concurrency: config.worker.maximumConcurrency,
        timeoutSeconds: config.worker.timeoutSeconds,
        // Above the batching window (or gathered messages reappear), far below the deployed 6 minutes.
        visibilityTimeoutSeconds: 3,
        waitTimeSeconds: 1,
        ...overrides,
      });
      sources.push(source);
      return source;
    },
    async takeDeadLetters() {
      const letters: DeadLetter[] = [];
      const redriven: unknown[] = [];
      for (const body of await stack.take('dead-letters')) {
        const parsed: unknown = JSON.parse(body);
        const letter = deadLetterSchema.safeParse(parsed);
        if (letter.success) letters.push(letter.data);
        else redriven.push(parsed);
      }
      return { letters, redriven };
    },
    async takeQueued({ waitForDelayed = false } = {}) {
      return (await stack.take('binding', { waitForDelayed })).map((body) => JSON.parse(body) as KeyMessage);
    },
    async stopFeeding() {
      await Promise.all(sources.splice(0).map((source) => source.stop()));
    },
    async close() {
      await Promise.all(sources.splice(0).map((source) => source.stop()));
      client.destroy();
      await stack.close();
    },
  };
}


let correlation = 0;

/** A v2 key message. */
export function keyMessage(phase: 'push' | 'verify', keys: ReconcileKey[], attempt = 0): KeyMessage {
  return { v: 2, phase, correlationId: `it-${++correlation}`, attempt, keys };
}

export const tokenKey = (token: string, platform: 'android' | 'ios' = 'android'): ReconcileKey => ({ kind: 'token', platform, token });

