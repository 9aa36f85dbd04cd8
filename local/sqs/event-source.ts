/**
 * Lambda's SQS event source mapping, in this process: pollers gather batches of up to
 * `batchSize` messages (over several receives of at most 10, for up to the batching window, as
 * Lambda does on a standard queue), hand the handler a real-shaped `SQSEvent`, delete what
 * succeeded and leave what failed to come back after the visibility timeout — `batchItemFailures`
 * honoured, a thrown error failing the whole batch, as Lambda does. Redrive to the dead-letter
 * queue after `maxReceiveCount` is the queue's own job (fauxqs does it, like SQS).
 *
 * Why hand-written: serverless-offline-sqs deletes a whole batch whatever `batchItemFailures` says (docs/architecture.md, "Why local/ is hand-written").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Message, MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { logger } from '../../lib/observability/logger.js';
import { createLambdaContext } from '../stack/lambda-context.js';
import { localSqsClient, queueDepth } from './client.js';

/** Lambda lets an SQS handler return nothing (every message succeeded). */
export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void | undefined | null>;

export interface EventSourceOptions {
  endpoint: string;
  queueUrl: string;
  handler: SqsBatchHandler;
  /** Messages per invocation, 1-10 000 (Lambda's limit on a standard queue). Default 10. */
  batchSize?: number;
  /**
   * Lambda's `maximumBatchingWindow` (0-300 s): once a batch has its first message, keep
   * receiving for up to this long until it holds `batchSize`. Default 0: no waiting — one receive
   * when `batchSize` <= 10; above 10 (which Lambda only allows with a window of 1 s or more)
   * whatever the queue holds right now, up to `batchSize`.
   */
  maximumBatchingWindowSeconds?: number;
  /** Pollers, i.e. batches handled at once (Lambda's `maximumConcurrency`). Default 1. */
  concurrency?: number;
  /**
   * Overrides the queue's visibility timeout on each receive: how long a failed message stays
   * away. Keep it above the batching window (AWS: >= 6 x the timeout + the window), or messages
   * gathered early reappear and are gathered again.
   */
  visibilityTimeoutSeconds?: number;
  /** Long polling, 0-20 s (Lambda uses 20). Default 20; stop() does not wait for it. */
  waitTimeSeconds?: number;
  /** For the Lambda context the handler receives. Defaults: `bindWorker`, 60 s. */
  functionName?: string;
  timeoutSeconds?: number;
  /** Receive/delete/handler errors; default: logged as warnings. */
  onError?: (error: unknown) => void;
}

export interface EventSourceStats {
  /** Messages handed to the handler (a redelivered message counts again). */
  received: number;
  /** Messages deleted after the handler succeeded with them. */
  deleted: number;
  /** Messages the handler reported failed, or that were in a batch whose invocation failed. */
  failed: number;
  /** Handler invocations. */
  batches: number;
  /** Invocations that threw or answered something Lambda would reject. */
  handlerErrors: number;
  /** Messages received and not yet settled: being gathered into a batch or inside a running invocation. */
  inFlight: number;
}

export interface EventSource {
  stats(): EventSourceStats;
  /** Resolves once the queue holds nothing (visible, in flight or delayed) and no invocation runs. */
  drained(options?: { pollMs?: number }): Promise<void>;
  /** Stops polling, waits for running invocations, closes the SQS client. */
  stop(): Promise<void>;
}

/** ReceiveMessage returns, and DeleteMessageBatch takes, at most 10 messages a call. */
const MAX_RECEIVE = 10;
const DEFAULT_BATCH_SIZE = 10;
/** Lambda's limits for a standard queue. */
const MAX_BATCH_SIZE = 10_000;
const MAX_BATCHING_WINDOW_SECONDS = 300;
const DEFAULT_WAIT_SECONDS = 20;
/** While gathering a batch and the queue is momentarily empty: short polls this far apart. */
const GATHER_POLL_MS = 50;
/** After a failed receive (queue gone, emulator restarting): don't spin. */
const ERROR_BACKOFF_MS = 1_000;
const DEFAULT_FUNCTION = { name: 'bindWorker', timeoutSeconds: 60 };

function toLambdaAttributes(attributes: Record<string, MessageAttributeValue> = {}): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      {
        dataType: value.DataType ?? 'String',
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
        stringListValues: value.StringListValues ?? [],
        binaryListValues: (value.BinaryListValues ?? []).map((binary) => Buffer.from(binary).toString('base64')),
      },
    ]),
  );
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '',
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId ? { MessageDeduplicationId: attributes.MessageDeduplicationId } : {}),
    },
    messageAttributes: toLambdaAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? '',
  };
}

/**
 * The ids Lambda would retry, or undefined when Lambda would fail the whole batch: a
 * `batchItemFailures` entry with an empty or unknown id makes the whole response invalid.
 */
function failedIds(response: unknown, records: readonly SQSRecord[]): Set<string> | undefined {
  if (response === undefined || response === null || typeof response !== 'object') return new Set();
  const failures: unknown = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return undefined;
  const known = new Set(records.map((record) => record.messageId));
  const ids = new Set<string>();
  for (const failure of failures) {
    const id: unknown = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !known.has(id)) return undefined;
    ids.add(id);
  }
  return ids;
}

function checkBatching(batchSize: number, windowSeconds: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new RangeError(`batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`);
  }
  if (!Number.isFinite(windowSeconds) || windowSeconds < 0 || windowSeconds > MAX_BATCHING_WINDOW_SECONDS) {
    throw new RangeError(`maximumBatchingWindowSeconds must be from 0 to ${MAX_BATCHING_WINDOW_SECONDS}, got ${windowSeconds}`);
  }
}

export function startEventSource(options: EventSourceOptions): EventSource {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const windowMs = (options.maximumBatchingWindowSeconds ?? 0) * 1000;
  checkBatching(batchSize, options.maximumBatchingWindowSeconds ?? 0);
  const concurrency = options.concurrency ?? 1;
  const onError = options.onError ?? ((error: unknown) => logger.warn('SQS event source error', { error }));
  const client: SQSClient = localSqsClient(options.endpoint);
  const abort = new AbortController();
  const stats: EventSourceStats = { received: 0, deleted: 0, failed: 0, batches: 0, handlerErrors: 0, inFlight: 0 };
  let knownArn: Promise<string> | undefined;

  const arn = () =>
    (knownArn ??= client
      .send(new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['QueueArn'] }))
      .then(({ Attributes }) => Attributes?.QueueArn ?? '')
      .catch((error: unknown) => {
        knownArn = undefined;
        throw error;
      }));

  /** DeleteMessageBatch takes 10 entries: a gathered batch is deleted in slices, side by side. */
  async function deleteSucceeded(records: readonly SQSRecord[]): Promise<void> {
    const slices = Array.from({ length: Math.ceil(records.length / MAX_RECEIVE) }, (_, i) => records.slice(i * MAX_RECEIVE, (i + 1) * MAX_RECEIVE));
    await Promise.all(slices.map((slice) => deleteSlice(slice)));
  }

  async function deleteSlice(records: readonly SQSRecord[]): Promise<void> {
    try {
      const answer = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: records.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
      stats.deleted += answer.Successful?.length ?? 0;
      // A message that could not be deleted comes back: at-least-once, as with Lambda.
      if (answer.Failed?.length) onError(new Error(`DeleteMessageBatch refused ${answer.Failed.length} message(s)`));
    } catch (error) {
      onError(error);
    }
  }

  async function invoke(messages: Message[], queueArn: string): Promise<void> {
    const records = messages.map((message) => toRecord(message, queueArn));
    stats.batches += 1;
    stats.received += records.length;
    let failed: Set<string> | undefined;
    try {
      const context = createLambdaContext(
        options.functionName ?? DEFAULT_FUNCTION.name,
        options.timeoutSeconds ?? DEFAULT_FUNCTION.timeoutSeconds,
      );
      failed = failedIds(await options.handler({ Records: records }, context), records);
      if (!failed) throw new Error('handler answered batchItemFailures Lambda would reject (missing or unknown itemIdentifier)');
    } catch (error) {
      stats.handlerErrors += 1;
      stats.failed += records.length;
      onError(error);
      return;
    }
    stats.failed += failed.size;
    await deleteSucceeded(records.filter((record) => !failed.has(record.messageId)));
  }

  async function receive(max: number, waitTimeSeconds: number, abortSignal?: AbortSignal): Promise<Message[]> {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
        ...(options.visibilityTimeoutSeconds !== undefined ? { VisibilityTimeout: options.visibilityTimeoutSeconds } : {}),
      }),
      abortSignal ? { abortSignal } : {},
    );
    stats.inFlight += Messages.length;
    return Messages;
  }

  /**
   * Adds to `batch` until it holds batchSize, the window has elapsed (from the batch's first
   * message, so an idle queue never invokes), or — without a window — a receive comes back short.
   * Short polls, not aborted on stop(): an aborted receive could take messages and lose them
   * until their visibility timeout. A failed receive ends the gathering; the batch still runs.
   */
  async function gather(batch: Message[], firstWasShort: boolean): Promise<void> {
    const deadline = Date.now() + windowMs;
    let short = firstWasShort;
    while (batch.length < batchSize && !abort.signal.aborted) {
      const remainingMs = deadline - Date.now();
      if (windowMs === 0 ? short : remainingMs <= 0) return;
      const wanted = Math.min(MAX_RECEIVE, batchSize - batch.length);
      let more: Message[];
      try {
        more = await receive(wanted, 0);
      } catch (error) {
        onError(error);
        return;
      }
      batch.push(...more);
      short = more.length < wanted;
      if (more.length === 0 && windowMs > 0) await sleep(Math.min(GATHER_POLL_MS, Math.max(0, remainingMs)));
    }
  }

  async function poll(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        const wanted = Math.min(MAX_RECEIVE, batchSize);
        const batch = await receive(wanted, options.waitTimeSeconds ?? DEFAULT_WAIT_SECONDS, abort.signal);
        if (batch.length === 0) continue;
        try {
          await gather(batch, batch.length < wanted);
          await invoke(batch, await arn());
        } finally {
          stats.inFlight -= batch.length;
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        onError(error);
        await sleep(ERROR_BACKOFF_MS, undefined, { signal: abort.signal }).catch(() => undefined);
      }
    }
  }

  const pollers = Array.from({ length: concurrency }, () => poll());

  return {
    stats: () => ({ ...stats }),
    async drained({ pollMs = 50 } = {}) {
      for (;;) {
        if (abort.signal.aborted) throw new Error('the event source was stopped before the queue drained');
        if (stats.inFlight === 0) {
          const depth = await queueDepth(client, options.queueUrl);
          if (depth.queued + depth.inFlight + depth.delayed === 0 && stats.inFlight === 0) return;
        }
        await sleep(pollMs);
      }
    },
    async stop() {
      abort.abort();
      await Promise.all(pollers);
      client.destroy();
    },
  };
}
