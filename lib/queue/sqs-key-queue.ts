/**
 * SendMessageBatch to a standard queue, per-message DelaySeconds, refused entries retried.
 * No ordering, no deduplication window: messages name keys, and the ledger decides what they mean.
 */
import pLimit from 'p-limit';
import pRetry, { AbortError } from 'p-retry';
import { QueueUnavailableError } from './messages.js';
import type { KeyQueue, OutgoingKeyMessage } from './messages.js';
import { lazySqsConnection } from './sqs-connection.js';
import type { SqsConnection, SqsConnectionOptions } from './sqs-connection.js';

/** SQS's hard limit on entries per SendMessageBatch. */
export const MAX_ENTRIES_PER_SEND = 10;
/** Batches in flight at once: 10 000 keys (500 messages) go out in ~13 rounds, not 50. */
const SEND_CONCURRENCY = 4;
/** ~0.7 s in total: short enough for an API handler to still answer 503 quickly. */
const ENTRY_RETRY = { retries: 3, minTimeout: 100, maxTimeout: 1_000, randomize: true };

export interface SqsQueueOptions extends SqsConnectionOptions {
  queueUrl: string;
}

/** A raw message for any queue (dead letters carry a string body and attributes). */
export interface RawMessage {
  body: string;
  delaySeconds?: number;
  attributes?: Record<string, string>;
}

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** One queue to send to, over a lazily created SQS client. */
export class SqsSender {
  readonly queueUrl: string;
  readonly #connection: () => Promise<SqsConnection>;

  constructor(options: SqsQueueOptions) {
    this.queueUrl = options.queueUrl;
    this.#connection = lazySqsConnection(options);
  }

  /** Sends every message or throws QueueUnavailableError. */
  async send(messages: readonly RawMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const connection = await this.#connection();
    const limit = pLimit(SEND_CONCURRENCY);
    const batches: RawMessage[][] = [];
    for (let start = 0; start < messages.length; start += MAX_ENTRIES_PER_SEND) batches.push(messages.slice(start, start + MAX_ENTRIES_PER_SEND));
    await Promise.all(batches.map((batch) => limit(() => this.#sendBatch(connection, batch))));
  }

  async #sendBatch({ sdk, client }: SqsConnection, batch: readonly RawMessage[]): Promise<void> {
    let pending = batch;
    await pRetry(async () => {
      let answer;
      try {
        answer = await client.send(
          new sdk.SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: pending.map((message, index) => ({
              Id: String(index),
              MessageBody: message.body,
              ...(message.delaySeconds ? { DelaySeconds: message.delaySeconds } : {}),
              ...(message.attributes
                ? { MessageAttributes: Object.fromEntries(Object.entries(message.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])) }
                : {}),
            })),
          }),
        );
      } catch (error) {
        // The SDK has already retried the call itself (maxAttempts): the queue is not answering.
        throw new AbortError(new QueueUnavailableError(`SQS SendMessageBatch failed: ${describe(error)}`, { cause: error }));
      }
      const failed = answer.Failed ?? [];
      if (failed.length === 0) return;
      const refused = new Set(failed.map((entry) => entry.Id));
      pending = pending.filter((_message, index) => refused.has(String(index)));
      throw new Error(`${failed.length} message(s) refused: ${[...new Set(failed.map((entry) => entry.Code))].join(', ')}`);
    }, ENTRY_RETRY).catch((error: unknown) => {
      if (error instanceof QueueUnavailableError) throw error;
      throw new QueueUnavailableError(`SQS did not accept the messages after ${ENTRY_RETRY.retries + 1} attempts: ${describe(error)}`, { cause: error });
    });
  }
}

/** The binding queue. */
export class SqsKeyQueue implements KeyQueue {
  readonly #sender: SqsSender;

  constructor(options: SqsQueueOptions) {
    this.#sender = new SqsSender(options);
  }

  get queueUrl(): string {
    return this.#sender.queueUrl;
  }

  send(messages: readonly OutgoingKeyMessage[]): Promise<void> {
    return this.#sender.send(messages.map(({ message, delaySeconds }) => ({ body: JSON.stringify(message), ...(delaySeconds ? { delaySeconds } : {}) })));
  }
}
