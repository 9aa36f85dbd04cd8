/**
 * Moves messages from the dead-letter queue back to the binding queue after a fix, keeping each
 * message's FIFO group (a token's work stays in order).
 *
 * What is moved, by what the dead-letter queue holds:
 * - work messages SQS redrove after `maxReceiveCount` failed receives (TPNS down for long, wrong
 *   credentials...): always moved back, unchanged;
 * - the worker's dead letters for items TPNS refused for good (`1008006` invalid token...):
 *   kept, because the same items would be refused again, unless `includeRefused` (e.g. a
 *   platform or validation problem was fixed): then their `work` is queued again;
 * - dead letters of invalid messages (`INVALID_MESSAGE`), and anything unreadable: always kept.
 *
 * Kept messages are re-sent to the end of the dead-letter queue (a FIFO group is blocked while
 * one of its messages is in flight, so they cannot simply be skipped) and counted by reason.
 * At least once: a message is deleted only after it was sent on; moving one twice is harmless.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import { INVALID_MESSAGE_CODE, deadLetterSchema } from './dead-letter.js';
import { workMessageSchema } from './messages.js';
import { SqsSender } from './send-messages.js';
import type { OutgoingMessage } from './send-messages.js';
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

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');

/** Where one dead-letter queue message goes. */
export function decide(message: Pick<Message, 'Body' | 'MessageId' | 'Attributes'>, includeRefused: boolean): Decision {
  const body = message.Body ?? '';
  const groupId = message.Attributes?.MessageGroupId ?? 'redrive';
  // A new deduplication id: the original one may still be inside SQS's 5-minute window.
  const deduplicationId = digest('redrive', message.MessageId ?? body);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { keep: UNREADABLE };
  }
  if (workMessageSchema.safeParse(json).success) return { move: { body, groupId, deduplicationId } };
  const letter = deadLetterSchema.safeParse(json);
  if (!letter.success) return { keep: UNREADABLE };
  const { reason, work, source } = letter.data;
  if (reason.code === INVALID_MESSAGE_CODE || !work || !includeRefused) return { keep: reason.code };
  return { move: { body: JSON.stringify(work), groupId: source.groupId ?? groupId, deduplicationId } };
}

async function receive({ sdk, client }: SqsConnection, dlqUrl: string): Promise<Message[]> {
  const { Messages = [] } = await client.send(
    new sdk.ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: RECEIVE_BATCH,
      VisibilityTimeout: RECEIVE_VISIBILITY_SECONDS,
      MessageSystemAttributeNames: ['MessageGroupId'],
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
          const groupId = message.Attributes?.MessageGroupId ?? 'redrive';
          const attributes = { [RUN_ATTRIBUTE]: run, ...stringAttributes(message) };
          keeps.push({ message, out: { body: message.Body ?? '', groupId, deduplicationId: digest(run, message.MessageId ?? ''), attributes } });
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
