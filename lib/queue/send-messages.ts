/**
 * SendMessageBatch with FIFO order kept and refused entries retried.
 *
 * Order: SQS orders a group by arrival, and an entry refused mid-batch would be retried after
 * its group's later entries. So a batch never holds two messages of one group: messages go out
 * in "generations" (the n-th message of every group), each generation fully accepted before
 * the next is sent.
 */
import pLimit from 'p-limit';
import pRetry, { AbortError } from 'p-retry';
import { QueueUnavailableError } from './errors.js';
import { lazySqsConnection } from './sqs-connection.js';
import type { SqsConnection, SqsConnectionOptions } from './sqs-connection.js';

export interface OutgoingMessage {
  body: string;
  groupId: string;
  deduplicationId: string;
  /** String message attributes (e.g. a dead letter's reason code, for filtering without parsing). */
  attributes?: Record<string, string>;
}

/** Backoff for entries SQS refused inside a successful SendMessageBatch answer. */
export interface EntryRetryOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff (ms, default 100); doubles each retry, with jitter. */
  minDelayMs?: number;
  /** Largest backoff (ms, default 1 000). */
  maxDelayMs?: number;
}

/** SQS's hard limit on entries per SendMessageBatch. */
export const MAX_ENTRIES_PER_SEND = 10;
/** Batches in flight at once: 10 000 items (500 messages) go out in ~13 rounds, not 50. */
const SEND_CONCURRENCY = 4;
/** ~0.7 s in total by default: short enough for an API handler to still answer 503 quickly. */
const DEFAULT_ENTRY_RETRY = { retries: 3, minDelayMs: 100, maxDelayMs: 1_000 } satisfies Required<EntryRetryOptions>;

interface RefusedEntry {
  code: string;
  senderFault: boolean;
}

class EntriesRefusedError extends Error {
  constructor(readonly refused: RefusedEntry[]) {
    super(`${refused.length} message(s) refused: ${[...new Set(refused.map((entry) => entry.code))].join(', ')}`);
  }
}

/** The n-th message of every group, for n = 0, 1, ... */
function generations(messages: readonly OutgoingMessage[]): OutgoingMessage[][] {
  const seen = new Map<string, number>();
  const result: OutgoingMessage[][] = [];
  for (const message of messages) {
    const generation = seen.get(message.groupId) ?? 0;
    seen.set(message.groupId, generation + 1);
    (result[generation] ??= []).push(message);
  }
  return result;
}

function batches(messages: readonly OutgoingMessage[]): OutgoingMessage[][] {
  const result: OutgoingMessage[][] = [];
  for (let start = 0; start < messages.length; start += MAX_ENTRIES_PER_SEND) {
    result.push(messages.slice(start, start + MAX_ENTRIES_PER_SEND));
  }
  return result;
}

async function sendBatch(
  { sdk, client }: SqsConnection,
  queueUrl: string,
  batch: readonly OutgoingMessage[],
  retry: Required<EntryRetryOptions>,
): Promise<void> {
  let pending = batch;
  await pRetry(
    async () => {
      let answer;
      try {
        answer = await client.send(
          new sdk.SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: pending.map((message, index) => ({
              Id: String(index),
              MessageBody: message.body,
              MessageGroupId: message.groupId,
              MessageDeduplicationId: message.deduplicationId,
              ...(message.attributes ? { MessageAttributes: stringAttributes(message.attributes) } : {}),
            })),
          }),
        );
      } catch (error) {
        // The SDK has already retried the call itself (maxAttempts): the queue is not answering.
        throw new AbortError(new QueueUnavailableError(`SQS SendMessageBatch failed: ${describe(error)}`, { cause: error }));
      }
      const failed = answer.Failed ?? [];
      if (failed.length === 0) return;
      const refusedIds = new Set(failed.map((entry) => entry.Id));
      pending = pending.filter((_message, index) => refusedIds.has(String(index)));
      throw new EntriesRefusedError(failed.map((entry) => ({ code: entry.Code ?? 'Unknown', senderFault: entry.SenderFault ?? false })));
    },
    { retries: retry.retries, minTimeout: retry.minDelayMs, maxTimeout: retry.maxDelayMs, randomize: true },
  ).catch((error: unknown) => {
    if (error instanceof QueueUnavailableError) throw error;
    throw new QueueUnavailableError(`SQS did not accept the work after ${retry.retries + 1} attempts: ${describe(error)}`, {
      cause: error,
    });
  });
}

function stringAttributes(attributes: Record<string, string>) {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export interface SqsQueueOptions extends SqsConnectionOptions {
  queueUrl: string;
  /** Backoff for entries SQS refuses (default 3 retries, 100 ms doubling to 1 s). */
  entryRetry?: EntryRetryOptions;
}

/** One FIFO queue to send to, over a lazily created SQS client. */
export class SqsSender {
  readonly queueUrl: string;
  readonly #connection: () => Promise<SqsConnection>;
  readonly #retry: Required<EntryRetryOptions>;

  constructor(options: SqsQueueOptions) {
    this.queueUrl = options.queueUrl;
    this.#connection = lazySqsConnection(options);
    this.#retry = { ...DEFAULT_ENTRY_RETRY, ...options.entryRetry };
  }

  /** Sends every message or throws QueueUnavailableError; messages of one group arrive in order. */
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const connection = await this.#connection();
    const limit = pLimit(SEND_CONCURRENCY);
    for (const generation of generations(messages)) {
      await Promise.all(batches(generation).map((batch) => limit(() => sendBatch(connection, this.queueUrl, batch, this.#retry))));
    }
  }
}
