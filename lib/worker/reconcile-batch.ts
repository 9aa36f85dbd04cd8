/**
 * The worker: one SQS batch of key messages, coalesced. Keys are deduplicated across messages
 * (a redelivered or duplicated message adds nothing), pushed or read back through
 * lib/convergence, and their follow-ups (read-backs, retries) and dead letters are queued before
 * the batch is acknowledged. A part that fails (ledger, TPNS or SQS unavailable) fails only the
 * messages that contributed keys to it: SQS delivers them again, and reconciling is idempotent.
 * Parts run in steps; near the invocation's end the keys of the steps not started are queued
 * again as they came, so a large batch is not cut off by the Lambda timeout.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { emptyReport, PUSH_SLICE, pushErasureKeys, pushTokenKeys, verifyErasureKeys, verifyTokenKeys } from '../convergence/reconciler.js';
import type { Convergence } from '../convergence/push.js';
import type { BatchReport, SourceOf } from '../convergence/reconciler.js';
import { tokenKeyId } from '../ledger/records.js';
import { logger } from '../observability/logger.js';
import { invalidMessageLetter } from '../queue/dead-letter.js';
import type { DeadLetter } from '../queue/dead-letter.js';
import { keyMessages } from '../queue/messages.js';
import type { ErasureReconcileKey, KeyMessage, TokenReconcileKey } from '../queue/messages.js';
import { readKeyRecord } from './key-record.js';
import { recordBatch } from '../observability/metrics.js';

interface Collected<K> {
  key: K;
  attempt: number;
  /** Messages that named this key: they fail together if its reconcile fails. */
  messageIds: Set<string>;
  correlationId: string;
}

type Phase = 'push' | 'verify';
type Kind = 'token' | 'erasure';

/** A batch's keys by phase and kind, each once (by its ledger id), whatever the messages that named it. */
export class KeySet {
  readonly #sets: Record<`${Phase}/${Kind}`, Map<string, Collected<TokenReconcileKey | ErasureReconcileKey>>> = {
    'push/token': new Map(),
    'push/erasure': new Map(),
    'verify/token': new Map(),
    'verify/erasure': new Map(),
  };

  add(phase: Phase, key: TokenReconcileKey | ErasureReconcileKey, message: KeyMessage, messageId: string): void {
    const id = idOf(key);
    const set = this.#sets[`${phase}/${key.kind}`];
    const existing = set.get(id);
    if (existing) {
      existing.attempt = Math.max(existing.attempt, message.attempt);
      existing.messageIds.add(messageId);
      return;
    }
    set.set(id, { key, attempt: message.attempt, messageIds: new Set([messageId]), correlationId: message.correlationId });
  }

  keysByCorrelationId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const set of Object.values(this.#sets)) for (const { correlationId } of set.values()) counts.set(correlationId, (counts.get(correlationId) ?? 0) + 1);
    return counts;
  }

  /** A key both pushed and verified in one batch is only pushed: the push queues its own read-back. */
  get<K extends Kind>(phase: Phase, kind: K): Collected<K extends 'token' ? TokenReconcileKey : ErasureReconcileKey>[] {
    const entries = [...this.#sets[`${phase}/${kind}`]];
    const pushed = this.#sets[`push/${kind}`];
    return entries
      .filter(([id]) => phase === 'push' || !pushed.has(id))
      .map(([, entry]) => entry) as Collected<K extends 'token' ? TokenReconcileKey : ErasureReconcileKey>[];
  }
}

/** Keys per step of a part: a push slice, ten full TPNS calls. */
export const STEP_KEYS = PUSH_SLICE;
/**
 * Time kept back when the worker stops starting steps: a step of 200 keys takes a few seconds,
 * one whose TPNS call times out (5 s) and is re-read takes longer. The rest of the 60 s is work;
 * a shorter timeout keeps a quarter of itself, and a batch whose steps run long keeps twice its
 * longest step (a starved container, a slow TPNS).
 */
export const HAND_BACK_MARGIN_MS = 15_000;

/** How much of an invocation's `remainingMs` to keep back, given its longest step so far. */
export const reserveOf = (remainingMs: number, longestStepMs = 0): number => Math.max(Math.min(HAND_BACK_MARGIN_MS, remainingMs / 4), 2 * longestStepMs);

export interface BatchOptions {
  /** Epoch ms when the invocation ends (Lambda's timeout); default never. The first step of each part always runs. */
  endsAt?: number;
}

/** Pushes of one attempt go together (coalesced across requests; each key's follow-ups keep its own correlation id). */
const byAttempt = <K>(entries: readonly Collected<K>[]): Collected<K>[][] => {
  const groups = new Map<number, Collected<K>[]>();
  for (const entry of entries) groups.set(entry.attempt, [...(groups.get(entry.attempt) ?? []), entry]);
  return [...groups.values()];
};

const idsOf = (entries: readonly Collected<unknown>[]): string[] => entries.flatMap((entry) => [...entry.messageIds]);
const idOf = (key: TokenReconcileKey | ErasureReconcileKey): string => (key.kind === 'token' ? tokenKeyId(key) : `${key.accountType ?? 0}\u0000${key.account}`);

/** A key's dead letter names the (first) message that carried it. */
function sourcesOf(entries: readonly Collected<TokenReconcileKey | ErasureReconcileKey>[]): SourceOf {
  const sources = new Map(entries.map((entry) => [idOf(entry.key), { messageId: [...entry.messageIds][0] ?? 'unknown', correlationId: entry.correlationId }]));
  return (key) => sources.get(idOf(key as TokenReconcileKey | ErasureReconcileKey)) ?? { messageId: 'unknown', correlationId: 'unknown' };
}

export async function reconcileBatch(event: SQSEvent, c: Convergence, options: BatchOptions = {}): Promise<SQSBatchResponse> {
  const keys = new KeySet();
  const failed = new Set<string>();
  const invalidLetters: DeadLetter[] = [];
  const report: BatchReport = emptyReport();

  for (const record of event.Records) {
    const read = readKeyRecord(record);
    if ('invalid' in read) {
      logger.error('Invalid key message dead-lettered', { messageId: read.messageId, reason: read.invalid });
      invalidLetters.push(invalidMessageLetter(read.body, read.invalid, { messageId: read.messageId }));
      continue;
    }
    const { message } = read;
    if (message.phase === 'record') {
      try {
        for (const { platform, token, account, accountType, v } of message.signIns) {
          const ref = accountType === undefined ? { account } : { account, accountType };
          await c.ledger.indexAccount([{ key: { platform, token }, ref }]);
          // Recorded or superseded by a newer operation (perhaps this very sign-in, recorded after
          // all): either way the token's current intent is pushed, which is always safe.
          await c.ledger.recordPendingSignIn({ platform, token }, ref, v);
          keys.add('push', { kind: 'token', platform, token }, message, read.messageId);
        }
      } catch (error) {
        logger.warn('Pending sign-ins could not be recorded; retried', { messageId: read.messageId, error });
        failed.add(read.messageId);
      }
      continue;
    }
    for (const key of message.keys) keys.add(message.phase, key, message, read.messageId);
  }

  /** Runs one part; its messages fail (and come back) if it throws. */
  const part = async (entries: readonly Collected<unknown>[], run: () => Promise<void>): Promise<void> => {
    if (entries.length === 0) return;
    try {
      await run();
    } catch (error) {
      logger.warn('Keys could not be reconciled; their messages are retried', { keys: entries.length, error });
      for (const id of idsOf(entries)) failed.add(id);
    }
  };

  /** Untouched keys back on the queue as they came (same phase and attempt, no delay): their messages are done. */
  const handBack = (phase: Phase, entries: readonly Collected<TokenReconcileKey | ErasureReconcileKey>[]) => {
    const groups = new Map<string, Collected<TokenReconcileKey | ErasureReconcileKey>[]>();
    for (const entry of entries) {
      const id = `${entry.attempt}\u0000${entry.correlationId}`;
      const group = groups.get(id);
      if (group) group.push(entry);
      else groups.set(id, [entry]);
    }
    for (const group of groups.values()) {
      report.messages.push(...keyMessages(group.map(({ key }) => key), { phase, correlationId: group[0]!.correlationId, attempt: group[0]!.attempt }));
    }
    report.counts.handedBack += entries.length;
  };
  const started = Date.now();
  let longestStepMs = 0;
  const outOfTime = () => options.endsAt !== undefined && Date.now() + reserveOf(options.endsAt - started, longestStepMs) >= options.endsAt;
  /** A part in steps of STEP_KEYS, each failing alone; once out of time, the steps not started are handed back. */
  const stepwise = async <K extends TokenReconcileKey | ErasureReconcileKey>(phase: Phase, entries: readonly Collected<K>[], run: (step: readonly Collected<K>[]) => Promise<void>) => {
    // One app per step where it can be: a step's TPNS calls stay full (20 tokens each).
    const ordered = [...entries].sort((a, b) => ('platform' in a.key ? a.key.platform : '').localeCompare('platform' in b.key ? b.key.platform : ''));
    for (let start = 0; start < ordered.length; start += STEP_KEYS) {
      if (start > 0 && outOfTime()) {
        handBack(phase, ordered.slice(start));
        return;
      }
      const step = ordered.slice(start, start + STEP_KEYS);
      const stepStarted = Date.now();
      await part(step, () => run(step));
      longestStepMs = Math.max(longestStepMs, Date.now() - stepStarted);
    }
  };

  const pushTokens = keys.get('push', 'token');
  const pushErasures = keys.get('push', 'erasure');
  const verifyTokens = keys.get('verify', 'token');
  const verifyErasures = keys.get('verify', 'erasure');
  await Promise.all([
    ...byAttempt(pushTokens).map((group) =>
      stepwise('push', group, (step) => pushTokenKeys(c, step.map(({ key }) => key), group[0]!.attempt, report, sourcesOf(step))),
    ),
    ...byAttempt(pushErasures).map((group) =>
      stepwise('push', group, (step) => pushErasureKeys(c, step.map(({ key }) => key), group[0]!.attempt, report, sourcesOf(step))),
    ),
    stepwise('verify', verifyTokens, (step) => verifyTokenKeys(c, step.map(({ key, attempt }) => ({ key, attempt })), report, sourcesOf(step))),
    stepwise('verify', verifyErasures, (step) => verifyErasureKeys(c, step.map(({ key, attempt }) => ({ key, attempt })), report, sourcesOf(step))),
  ]);
  if (report.counts.handedBack > 0) logger.warn('Batch ran short of time; its remaining keys are queued again', { keys: report.counts.handedBack });

  try {
    await Promise.all([
      c.queue.send(report.messages),
      c.deadLetters ? c.deadLetters.send([...report.deadLetters, ...invalidLetters]) : Promise.resolve(),
    ]);
  } catch (error) {
    // Without its follow-ups a key could stay unverified: the whole batch comes back.
    logger.error('Follow-ups could not be queued; the batch is retried', { error });
    return { batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })) };
  } finally {
    recordBatch(report, invalidLetters.length);
  }
  // One batch serves many requests: a line per request's correlation id, so each can be followed into the worker.
  for (const [correlationId, count] of keys.keysByCorrelationId()) {
    logger.setCorrelationId(correlationId);
    logger.info('Keys reconciled', { keys: count });
  }
  logger.removeKeys(['correlation_id']);
  logger.info('Batch reconciled', { messages: event.Records.length, ...report.counts, failed: failed.size });
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}
