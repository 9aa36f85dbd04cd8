/**
 * The worker's real surroundings for integration tests: fauxqs (queues as serverless.yml
 * declares them), the TPNS emulator over HTTP, Lambda's SQS event source, and the deployed
 * handler reading its configuration from the environment.
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { resetRuntimeForTests } from '../../../lib/config/runtime.js';
import { deadLetterSchema } from '../../../lib/queue/dead-letter.js';
import type { DeadLetter } from '../../../lib/queue/dead-letter.js';
import { SqsWorkQueue } from '../../../lib/queue/index.js';
import { LOCAL_CREDENTIALS, localSqsClient } from '../../../local/sqs/client.js';
import { startEventSource } from '../../../local/sqs/event-source.js';
import type { EventSource, SqsBatchHandler } from '../../../local/sqs/event-source.js';
import { startLocalSqs } from '../../../local/sqs/fauxqs.js';
import type { LocalSqs } from '../../../local/sqs/fauxqs.js';
import { startTpnsEmulator } from '../../../local/tpns-emulator/index.js';
import type { TpnsEmulator } from '../../../local/tpns-emulator/index.js';

export interface WorkerHarness {
  sqs: LocalSqs;
  emulator: TpnsEmulator;
  queue: SqsWorkQueue;
  /** Starts Lambda's event source with serverless.yml's batch size and concurrency, failures back after 1 s. */
  feed(handler: SqsBatchHandler, options?: { concurrency?: number }): EventSource;
  /** Receives and deletes everything in the dead-letter queue. */
  takeDeadLetters(): Promise<{ letters: DeadLetter[]; redriven: unknown[] }>;
  /** Stops every event source started by feed(). */
  stopFeeding(): Promise<void>;
  /** batchoperate calls the emulator received. */
  batchCalls(): number;
  close(): Promise<void>;
}

export async function startWorkerHarness(): Promise<WorkerHarness> {
  const emulator = await startTpnsEmulator();
  const sqs = await startLocalSqs();
  Object.assign(process.env, emulator.env, sqs.env, {
    // One attempt per TPNS operation: a retryable failure goes back to the queue at once.
    WORKER_RETRY_BUDGET_MS: '0',
  });
  resetRuntimeForTests();
  const client = localSqsClient(sqs.endpoint);
  const sources: EventSource[] = [];
  return {
    sqs,
    emulator,
    queue: new SqsWorkQueue({ queueUrl: sqs.queueUrl, endpoint: sqs.endpoint, credentials: LOCAL_CREDENTIALS }),
    feed(handler, options = {}) {
      const source = startEventSource({
        endpoint: sqs.endpoint,
        queueUrl: sqs.queueUrl,
        handler,
        batchSize: sqs.config.worker.batchSize,
        concurrency: options.concurrency ?? sqs.config.worker.maximumConcurrency,
        timeoutSeconds: sqs.config.worker.timeoutSeconds,
        visibilityTimeoutSeconds: 1,
        waitTimeSeconds: 1,
      });
      sources.push(source);
      return source;
    },
    async takeDeadLetters() {
      const letters: DeadLetter[] = [];
      const redriven: unknown[] = [];
      for (;;) {
        const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, MaxNumberOfMessages: 10 }));
        if (Messages.length === 0) return { letters, redriven };
        for (const message of Messages) {
          const body: unknown = JSON.parse(message.Body ?? 'null');
          const letter = deadLetterSchema.safeParse(body);
          if (letter.success) letters.push(letter.data);
          else redriven.push(body);
          await client.send(new DeleteMessageCommand({ QueueUrl: sqs.dlqUrl, ReceiptHandle: message.ReceiptHandle }));
        }
      }
    },
    async stopFeeding() {
      await Promise.all(sources.splice(0).map((source) => source.stop()));
    },
    batchCalls: () => emulator.requests().filter((request) => request.path.endsWith('batchoperate')).length,
    async close() {
      await Promise.all(sources.splice(0).map((source) => source.stop()));
      client.destroy();
      await sqs.close();
      await emulator.close();
    },
  };
}
