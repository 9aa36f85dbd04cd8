/** The WorkQueue on SQS FIFO: every queued message goes out with its group and deduplication id. */
import type { QueuedWork, WorkQueue } from './messages.js';
import { sendMessages } from './send-messages.js';
import type { EntryRetryOptions } from './send-messages.js';
import { lazySqsConnection } from './sqs-connection.js';
import type { SqsConnection, SqsConnectionOptions } from './sqs-connection.js';

export interface SqsWorkQueueOptions extends SqsConnectionOptions {
  queueUrl: string;
  /** Backoff for entries SQS refuses (default 3 retries, 100 ms doubling to 1 s). */
  entryRetry?: EntryRetryOptions;
}

export class SqsWorkQueue implements WorkQueue {
  readonly queueUrl: string;
  readonly #connection: () => Promise<SqsConnection>;
  readonly #entryRetry: EntryRetryOptions;

  constructor(options: SqsWorkQueueOptions) {
    this.queueUrl = options.queueUrl;
    this.#connection = lazySqsConnection(options);
    this.#entryRetry = options.entryRetry ?? {};
  }

  /** SendMessageBatch, 10 per call; refused entries retried; else QueueUnavailableError. */
  async enqueue(work: QueuedWork[]): Promise<void> {
    if (work.length === 0) return;
    const messages = work.map(({ message, groupId, deduplicationId }) => ({
      body: JSON.stringify(message),
      groupId,
      deduplicationId,
    }));
    await sendMessages(await this.#connection(), this.queueUrl, messages, this.#entryRetry);
  }
}
