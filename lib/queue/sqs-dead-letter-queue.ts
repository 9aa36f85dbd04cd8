/** The DeadLetterQueue on SQS FIFO; the reason code is also a message attribute, to filter without parsing. */
import type { DeadLetterQueue, QueuedDeadLetter } from './dead-letter.js';
import { SqsSender } from './send-messages.js';
import type { SqsQueueOptions } from './send-messages.js';

export class SqsDeadLetterQueue implements DeadLetterQueue {
  readonly #sender: SqsSender;

  constructor(options: SqsQueueOptions) {
    this.#sender = new SqsSender(options);
  }

  get queueUrl(): string {
    return this.#sender.queueUrl;
  }

  send(letters: QueuedDeadLetter[]): Promise<void> {
    return this.#sender.send(
      letters.map(({ letter, groupId, deduplicationId }) => ({
        body: JSON.stringify(letter),
        groupId,
        deduplicationId,
        attributes: { reason: letter.reason.code },
      })),
    );
  }
}
