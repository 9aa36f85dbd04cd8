/**
 * The sweep: the periodic resync of a level-triggered controller. Every accepted operation is
 * followed by queued work (a push, a read-back, a retry), but a follow-up can be lost: the queue
 * refused it after the ledger had recorded the intent, a container died between the two, a bulk
 * failed halfway. Such a token stays in the ledger's unsettled index with nothing moving it. On
 * a schedule, the worker finds the tokens whose work has stood still for SWEEP_AFTER_SECONDS and
 * queues a push of their current intent; the usual push, read-back and repair follow. Queuing a
 * key whose work was only slow costs one push that changes nothing. Erasures alike: an unsettled
 * tombstone keeps its account sealed (lib/ledger/sealed-account.ts) until it is verified, so a
 * deletion whose work was lost is pushed again (op 5 on every app that has not verified it).
 */
import * as z from 'zod/mini';
import type { Convergence } from '../convergence/push.js';
import { logger } from '../observability/logger.js';
import { metrics, MetricUnit } from '../observability/metrics.js';
import { erasureKeyOf, keyMessages, tokenKeyOf } from '../queue/messages.js';

/** Keys one sweep queues at most (500 messages of 20 keys, a few seconds of ledger calls); the next sweep takes the rest. */
export const SWEEP_MAX_KEYS = 10_000;

export interface SweepOptions {
  /** Work standing still this long counts as lost. */
  afterSeconds: number;
  /** Follows the queued keys into the worker's logs. */
  correlationId: string;
  limit?: number;
}

export interface SweepReport {
  /** Keys queued for a push: tokens and erasures. */
  queued: number;
  /** Of them, erasures. */
  erasures: number;
  /** True when the limit was reached: more may be waiting for the next sweep. */
  more: boolean;
}

/**
 * Queues a push of every token and erasure whose work stood still for `afterSeconds`, then notes
 * that their work moved (so the next sweep does not queue them again while the queue still holds
 * them). Queued before noted: a failure in between only queues them again next time.
 */
export async function sweepUnsettled(c: Convergence, options: SweepOptions): Promise<SweepReport> {
  const limit = options.limit ?? SWEEP_MAX_KEYS;
  const work = await c.ledger.unsettledBefore(Date.now() - options.afterSeconds * 1000, limit);
  const keys = [...work.tokens.map(tokenKeyOf), ...work.erasures.map(erasureKeyOf)];
  if (keys.length > 0) {
    await c.queue.send(keyMessages(keys, { phase: 'push', correlationId: options.correlationId }));
    await c.ledger.touchUnsettled(work);
  }
  // `listed`: entries skipped (settled since, expired, unopened) still count towards the limit.
  const report = { queued: keys.length, erasures: work.erasures.length, more: work.listed >= limit };
  if (work.unopened > 0) logger.error('Sweep found erasures whose sealed account does not open (was ERASURE_KEY changed?); they are not swept', { unopened: work.unopened });
  metrics.addMetric('SweptKeys', MetricUnit.Count, report.queued);
  // Each one is queued work that was lost (or very late): worth a line, never a token or an account.
  if (report.queued > 0) logger.warn('Sweep queued work that had stood still', { ...report, afterSeconds: options.afterSeconds });
  else logger.debug('Sweep found nothing standing still', { afterSeconds: options.afterSeconds });
  return report;
}

/** The EventBridge schedule that starts a sweep (serverless.yml, the worker's `schedule` event). */
const scheduledEventSchema = z.object({ source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event'), id: z.string() });

export const isScheduledEvent = (event: unknown): event is z.infer<typeof scheduledEventSchema> => scheduledEventSchema.safeParse(event).success;
