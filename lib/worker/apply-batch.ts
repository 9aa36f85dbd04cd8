/**
 * Applies one SQS batch of work messages at TPNS, as few calls as possible, FIFO order kept.
 *
 * Rounds: round k takes the k-th message of every group still in good standing, so a group's
 * later message is never applied before its earlier one. Within a round, messages of the same
 * kind and platform are merged into one client operation (20 tokens per call). A message that
 * fails retryably stops its group: the group's later messages are not applied, and all of them
 * are returned as batch item failures.
 *
 * Outcomes per message:
 * - applied: every item succeeded, or failed for good (those items are dead-lettered with the
 *   TPNS code and message, never retried);
 * - dead-lettered: the body is not a valid work message (never retried);
 * - retry: some item failed retryably after the worker's budget, a call-level problem that is
 *   not the message's fault (credentials, app state), or no time left.
 * Re-applying a message is harmless (ops 2-5 are set-like), so redelivery is safe.
 */
import { logger, redactToken } from '../observability/logger.js';
import { INVALID_MESSAGE_CODE, failedItemsLetter, invalidMessageLetter } from '../queue/dead-letter.js';
import type { DeadLetterQueue, QueuedDeadLetter } from '../queue/dead-letter.js';
import { QueueUnavailableError } from '../queue/errors.js';
import type { WorkMessage } from '../queue/messages.js';
import { TpnsBadRequestError, TpnsError, TpnsValidationError } from '../tpns/errors.js';
import type { ItemOutcome, Platform, TpnsAccountApi } from '../tpns/types.js';
import { ItemOutcomeCounts, recordDeadLettered } from './metrics.js';
import { itemCount, keepItems } from '../queue/plan.js';
import { applyTogether } from './work-items.js';
import type { WorkRecord } from './work-record.js';

export type RecordResult =
  | { status: 'applied'; applied: number; deadLettered: number }
  | { status: 'dead-lettered'; code: string; message: string }
  | { status: 'retry'; code: string; message: string };

export interface ApplyWorkOptions {
  tpns: TpnsAccountApi;
  /** Where refused items and invalid messages go; without it they are retried until SQS redrives them. */
  deadLetters: DeadLetterQueue | undefined;
  /** Retry budget of each TPNS operation (ms): the worker can wait longer than a user. */
  retryBudgetMs: number;
  /** Epoch ms after which no TPNS work starts (the invocation's end minus a margin). */
  deadline?: number;
}

/** Worker codes for retries that carry no TPNS code. */
export const WORKER_CODE = {
  groupBlocked: 'GROUP_BLOCKED',
  outOfTime: 'OUT_OF_TIME',
  deadLetterUnavailable: 'DLQ_UNAVAILABLE',
  noDeadLetterQueue: 'NO_DLQ',
} as const;

interface Valid {
  record: WorkRecord;
  message: WorkMessage;
}

type DeadLetterReason = Parameters<typeof recordDeadLettered>[0];

const retry = (code: string, message: string): RecordResult => ({ status: 'retry', code, message });

/** TPNS refused the request itself because of what it held: the message's fault, not the service's. */
const isContentError = (error: TpnsError): boolean =>
  error instanceof TpnsValidationError || error instanceof TpnsBadRequestError;

function logRefused(message: WorkMessage, outcomes: readonly ItemOutcome[]): void {
  logger.setCorrelationId(message.correlationId);
  for (const outcome of outcomes) {
    logger.warn('TPNS refused an item for good; dead-lettered', {
      kind: message.kind,
      platform: message.platform,
      ...(outcome.token === undefined ? {} : { token: redactToken(outcome.token) }),
      code: outcome.code,
      reason: outcome.message,
    });
  }
}

class Round {
  readonly results = new Map<string, RecordResult>();
  readonly letters: { messageId: string; letter: QueuedDeadLetter; reason: DeadLetterReason; items: number }[] = [];

  constructor(
    private readonly options: ApplyWorkOptions,
    private readonly counts: ItemOutcomeCounts,
  ) {}

  deadLetterInvalid(record: WorkRecord, reason: string): void {
    const letter = invalidMessageLetter(record.body, reason, record);
    this.letters.push({ messageId: record.messageId, letter, reason: 'invalid-message', items: 1 });
    this.results.set(record.messageId, { status: 'dead-lettered', code: INVALID_MESSAGE_CODE, message: reason });
  }

  /** One merged operation for `members` (same kind and platform). */
  async apply(members: readonly Valid[]): Promise<void> {
    const timeLeft = (this.options.deadline ?? Infinity) - Date.now();
    if (timeLeft <= 0) {
      for (const { record } of members) this.results.set(record.messageId, retry(WORKER_CODE.outOfTime, 'no time left in this invocation'));
      return;
    }
    let outcomes: ItemOutcome[];
    try {
      ({ outcomes } = await applyTogether(this.options.tpns, members.map((member) => member.message), { retryBudgetMs: Math.min(this.options.retryBudgetMs, timeLeft) }));
    } catch (error) {
      if (!(error instanceof TpnsError)) throw error;
      if (isContentError(error) && members.length > 1) {
        // Find the culprit: apply each message on its own.
        for (const member of members) await this.apply([member]);
        return;
      }
      this.callFailed(members, error);
      return;
    }
    let offset = 0;
    for (const { record, message } of members) {
      // Outcomes of this message's items, indexed within the message.
      const own = outcomes.slice(offset, offset + itemCount(message)).map((outcome, index) => ({ ...outcome, index }));
      offset += own.length;
      this.counts.add(message.kind, own);
      this.settle(record, message, own);
    }
  }

  private callFailed(members: readonly Valid[], error: TpnsError): void {
    for (const { record, message } of members) {
      if (isContentError(error)) {
        const letter = failedItemsLetter(message, { code: error.code, message: error.message }, record);
        this.letters.push({ messageId: record.messageId, letter, reason: 'refused-item', items: itemCount(message) });
        this.results.set(record.messageId, { status: 'applied', applied: 0, deadLettered: itemCount(message) });
      } else {
        // Credentials, app state, platform not configured: not this message's fault. Retried, and
        // if it persists SQS redrives the message, unchanged, to the dead-letter queue.
        this.results.set(record.messageId, retry(error.code, error.message));
      }
    }
    if (!isContentError(error)) logger.error('TPNS call failed; the messages will be retried', { code: error.code, error: error.message });
  }

  private settle(record: WorkRecord, message: WorkMessage, outcomes: readonly ItemOutcome[]): void {
    const retryable = outcomes.find((outcome) => !outcome.ok && outcome.retryable);
    if (retryable) {
      this.results.set(record.messageId, retry(retryable.code, retryable.message));
      return;
    }
    const refused = outcomes.filter((outcome) => !outcome.ok);
    for (const code of new Set(refused.map((outcome) => outcome.code))) {
      const withCode = refused.filter((outcome) => outcome.code === code);
      const work = keepItems(message, withCode.map((outcome) => outcome.index));
      const letter = failedItemsLetter(work, { code, message: withCode[0]?.message ?? '' }, record);
      this.letters.push({ messageId: record.messageId, letter, reason: 'refused-item', items: withCode.length });
    }
    if (refused.length > 0) logRefused(message, refused);
    this.results.set(record.messageId, { status: 'applied', applied: outcomes.length - refused.length, deadLettered: refused.length });
  }

  /** Sends this round's dead letters; if they cannot be kept, their messages are retried instead. */
  async flushDeadLetters(): Promise<void> {
    if (this.letters.length === 0) return;
    const affected = new Set(this.letters.map(({ messageId }) => messageId));
    const fallBack = (code: string, message: string) => {
      for (const messageId of affected) this.results.set(messageId, retry(code, message));
    };
    if (!this.options.deadLetters) {
      logger.error('No dead-letter queue configured (BINDING_DLQ_URL); retrying instead', { messages: affected.size });
      fallBack(WORKER_CODE.noDeadLetterQueue, 'BINDING_DLQ_URL is not set');
      return;
    }
    try {
      await this.options.deadLetters.send(this.letters.map(({ letter }) => letter));
      for (const { reason, items } of this.letters) recordDeadLettered(reason, items);
    } catch (error) {
      if (!(error instanceof QueueUnavailableError)) throw error;
      logger.error('Dead-letter queue unavailable; retrying instead', { error: error.message });
      fallBack(WORKER_CODE.deadLetterUnavailable, error.message);
    }
  }
}

/** Group key of a record; a record without a group (standard queue) is its own group. */
const groupKey = (record: WorkRecord) => record.groupId ?? `message:${record.messageId}`;

/** Messages of the round by platform, then by kind, in batch order. */
function buckets(members: readonly Valid[]): Map<Platform, Valid[][]> {
  const byKey = new Map<string, Valid[]>();
  for (const member of members) {
    const key = `${member.message.kind}/${member.message.platform}`;
    byKey.set(key, [...(byKey.get(key) ?? []), member]);
  }
  const byPlatform = new Map<Platform, Valid[][]>();
  for (const bucket of byKey.values()) {
    const platform = (bucket[0] as Valid).message.platform;
    byPlatform.set(platform, [...(byPlatform.get(platform) ?? []), bucket]);
  }
  return byPlatform;
}

export async function applyWorkBatch(records: readonly WorkRecord[], options: ApplyWorkOptions): Promise<Map<string, RecordResult>> {
  const groups = new Map<string, WorkRecord[]>();
  for (const record of records) groups.set(groupKey(record), [...(groups.get(groupKey(record)) ?? []), record]);

  const results = new Map<string, RecordResult>();
  const stopped = new Set<string>();
  const counts = new ItemOutcomeCounts();
  try {
    for (let k = 0; ; k++) {
      const takers = [...groups].filter(([key, list]) => !stopped.has(key) && list[k]).map(([, list]) => list[k] as WorkRecord);
      if (takers.length === 0) break;
      const round = new Round(options, counts);
      const valid: Valid[] = [];
      for (const record of takers) {
        if (record.message) valid.push({ record, message: record.message });
        else round.deadLetterInvalid(record, record.invalid ?? 'invalid message');
      }
      // Android and iOS are separate TPNS apps with separate tokens: nothing to order between them,
      // so their calls run concurrently (a batch of mixed sign-ins waits one round trip, not two).
      // A platform's kinds go one after another: a crash leaves a clear prefix applied.
      await Promise.all(
        [...buckets(valid).values()].map(async (platformBuckets) => {
          for (const bucket of platformBuckets) await round.apply(bucket);
        }),
      );
      await round.flushDeadLetters();
      for (const record of takers) {
        const result = round.results.get(record.messageId);
        if (!result) throw new Error(`no result for message ${record.messageId}`);
        results.set(record.messageId, result);
        if (result.status === 'retry') stopped.add(groupKey(record));
      }
    }
  } finally {
    counts.record();
  }
  for (const record of records) {
    if (!results.has(record.messageId)) {
      results.set(record.messageId, retry(WORKER_CODE.groupBlocked, 'an earlier message of its group is retried first'));
    }
  }
  return results;
}
