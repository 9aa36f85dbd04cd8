/**
 * Moves messages from the dead-letter queue back to the binding queue after a fix. Order does not
 * matter: a moved message names keys, and the worker reconciles them to the ledger's current intent.
 *
 * What is moved, by what the dead-letter queue holds:
 * - key messages SQS redrove after `maxReceiveCount` failed receives (ledger or TPNS down for
 *   long, wrong credentials...): always moved back, unchanged;
 * - the worker's dead letters of keys that did not converge (`NOT_CONVERGING`) or whose pushes
 *   TPNS kept failing retryably (HTTP 5xx, timeouts, 1008004, 1008028): moved; the worker reads
 *   the key back and repairs it;
 * - dead letters of keys TPNS refused for good (`1008006` invalid token...): kept, because TPNS
 *   would refuse them again, unless `includeRefused` (e.g. a platform problem was fixed);
 * - dead letters of invalid messages (`INVALID_MESSAGE`), and anything unreadable: always kept.
 *
 * Kept messages are re-sent to the end of the dead-letter queue (marked with this run's id, so
 * the run stops when it meets them again) and counted by reason.
 * At least once: a message is deleted only after it was sent on; moving one twice is harmless.
 */
import { randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import { INVALID_MESSAGE_CODE, NOT_CONVERGING_CODE, deadLetterSchema } from './dead-letter.js';
import { keyMessageSchema } from './messages.js';
import { SqsSender } from './sqs-key-queue.js';
import type { RawMessage as OutgoingMessage } from './sqs-key-queue.js';
import { lazySqsConnection } from './sqs-connection.js';
import type { SqsConnection, SqsConnectionOptions } from './sqs-connection.js';

export interface RedriveOptions extends SqsConnectionOptions {
  /** The dead-letter queue (BINDING_DLQ_URL). */
  dlqUrl: string;
  /** The binding queue the work goes back to (BINDING_QUEUE_URL). */
  queueUrl: string;
  /** Also re-queue items TPNS refused for good (default false: they stay dead-lettered). */
  includeRefused?: boolean;
  /** Stop after moving this many messages (default: all). */
  limit?: number;
}

export interface RedriveReport {
  /** Messages sent back to the binding queue. */
  moved: number;
  /** Messages left in the dead-letter queue, by reason code (`1008006`, `INVALID_MESSAGE`, `UNREADABLE`). */
  kept: Record<string, number>;
}

/** How long a received dead letter stays invisible while it is being moved. */
const RECEIVE_VISIBILITY_SECONDS = 60;
const RECEIVE_BATCH = 10;
/** Marks a kept message re-sent by this run, so the run stops when it meets it again. */
const RUN_ATTRIBUTE = 'redriveRun';
const UNREADABLE = 'UNREADABLE';

type Decision = { move: OutgoingMessage } | { keep: string };


/**
 * Letters whose cause is passing (TPNS failing or slow, read-backs that kept differing): moved by
 * default. TPNS's permanent refusals (1008006 invalid token...) only with `includeRefused`.
 */
const MOVED_BY_DEFAULT = new RegExp(`^(${NOT_CONVERGING_CODE}|HTTP_5\\d\\d|TIMEOUT|NETWORK|BAD_RESPONSE|LEASE_LOST|1008004|1008028)$`);

/** Where one dead-letter queue message goes. */
export function decide(message: Pick<Message, 'Body' | 'MessageId' | 'Attributes'>, includeRefused: boolean): Decision {
  const body = message.Body ?? '';
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { keep: UNREADABLE };
  }
  if (keyMessageSchema.safeParse(json).success) return { move: { body } };
  const letter = deadLetterSchema.safeParse(json);
  if (!letter.success) return { keep: UNREADABLE };
  const { reason, key } = letter.data;
  // The worker reads a redriven letter as its key to read back and repair.
  if (reason.code === INVALID_MESSAGE_CODE || !key) return { keep: reason.code };
  if (!MOVED_BY_DEFAULT.test(reason.code) && !includeRefused) return { keep: reason.code };
  return { move: { body } };
}

async function receive({ sdk, client }: SqsConnection, dlqUrl: string): Promise<Message[]> {
  const { Messages = [] } = await client.send(
    new sdk.ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: RECEIVE_BATCH,
      VisibilityTimeout: RECEIVE_VISIBILITY_SECONDS,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

async function remove({ sdk, client }: SqsConnection, dlqUrl: string, messages: readonly Message[]): Promise<void> {
  if (messages.length === 0) return;
  await client.send(
    new sdk.DeleteMessageBatchCommand({
      QueueUrl: dlqUrl,
      Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
    }),
  );
}

/** Makes messages this run will not touch again visible right away (instead of after the receive's visibility timeout). */
async function release({ sdk, client }: SqsConnection, dlqUrl: string, messages: readonly Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += RECEIVE_BATCH) {
    await client.send(
      new sdk.ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlqUrl,
        Entries: messages.slice(start, start + RECEIVE_BATCH).map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveReport> {
  const connection = await lazySqsConnection(options)();
  const toQueue = new SqsSender({ ...options, queueUrl: options.queueUrl });
  const backToDlq = new SqsSender({ ...options, queueUrl: options.dlqUrl });
  const run = randomUUID();
  const report: RedriveReport = { moved: 0, kept: {} };
  const seenAgain: Message[] = [];
  try {
    while (options.limit === undefined || report.moved < options.limit) {
      const batch = await receive(connection, options.dlqUrl);
      if (batch.length === 0) break;
      const fresh = batch.filter((message) => message.MessageAttributes?.[RUN_ATTRIBUTE]?.StringValue !== run);
      seenAgain.push(...batch.filter((message) => !fresh.includes(message)));
      if (fresh.length === 0) continue;
      const room = options.limit === undefined ? Infinity : options.limit - report.moved;
      const moves: { message: Message; out: OutgoingMessage }[] = [];
      const keeps: { message: Message; out: OutgoingMessage }[] = [];
      for (const message of fresh) {
        const decision = moves.length < room ? decide(message, options.includeRefused ?? false) : { keep: 'LIMIT' };
        if ('move' in decision) {
          moves.push({ message, out: decision.move });
        } else {
          if (decision.keep !== 'LIMIT') report.kept[decision.keep] = (report.kept[decision.keep] ?? 0) + 1;
          const attributes = { [RUN_ATTRIBUTE]: run, ...stringAttributes(message) };
          keeps.push({ message, out: { body: message.Body ?? '', attributes } });
        }
      }
      await toQueue.send(moves.map(({ out }) => out));
      await backToDlq.send(keeps.map(({ out }) => out));
      await remove(connection, options.dlqUrl, [...moves, ...keeps].map(({ message }) => message));
      report.moved += moves.length;
    }
  } finally {
    await release(connection, options.dlqUrl, seenAgain);
    connection.client.destroy();
  }
  return report;
}

/** The string attributes a message carried (the dead letter's `reason`), to keep them on a re-sent copy. */
function stringAttributes(message: Message): Record<string, string> {
  return Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).flatMap(([name, value]) =>
      name !== RUN_ATTRIBUTE && value.DataType === 'String' && value.StringValue !== undefined ? [[name, value.StringValue]] : [],
    ),
  );
}
