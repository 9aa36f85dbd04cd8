/** The WorkQueue on SQS FIFO: every queued message goes out with its group and deduplication id. */
import type { QueuedWork, WorkQueue } from './messages.js';
import { SqsSender } from './send-messages.js';
import type { SqsQueueOptions } from './send-messages.js';

export type SqsWorkQueueOptions = SqsQueueOptions;

export class SqsWorkQueue implements WorkQueue {
  readonly #sender: SqsSender;

  constructor(options: SqsWorkQueueOptions) {
    this.#sender = new SqsSender(options);
  }

  get queueUrl(): string {
    return this.#sender.queueUrl;
  }

  /** SendMessageBatch, 10 per call; refused entries retried; else QueueUnavailableError. */
  enqueue(work: QueuedWork[]): Promise<void> {
    return this.#sender.send(
      work.map(({ message, groupId, deduplicationId }) => ({ body: JSON.stringify(message), groupId, deduplicationId })),
    );
  }
}
