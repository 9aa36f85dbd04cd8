/** The DeadLetterQueue on SQS FIFO; the reason code is also a message attribute, to filter without parsing. */
import type { DeadLetterQueue, QueuedDeadLetter } from './dead-letter.js';
import { sendMessages } from './send-messages.js';
import { lazySqsConnection } from './sqs-connection.js';
import type { SqsConnection } from './sqs-connection.js';
import type { SqsWorkQueueOptions } from './sqs-work-queue.js';

export class SqsDeadLetterQueue implements DeadLetterQueue {
  readonly queueUrl: string;
  readonly #connection: () => Promise<SqsConnection>;
  readonly #options: SqsWorkQueueOptions;

  constructor(options: SqsWorkQueueOptions) {
    this.queueUrl = options.queueUrl;
    this.#options = options;
    this.#connection = lazySqsConnection(options);
  }

  async send(letters: QueuedDeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const messages = letters.map(({ letter, groupId, deduplicationId }) => ({
      body: JSON.stringify(letter),
      groupId,
      deduplicationId,
      attributes: { reason: letter.reason.code },
    }));
    await sendMessages(await this.#connection(), this.queueUrl, messages, this.#options.entryRetry);
  }
}
