/** The worker's metrics (EMF): items applied/failed by kind and code, dead letters, retries. */
import { countWith, metrics, MetricUnit } from '../observability/metrics.js';
import type { WorkKind } from '../queue/messages.js';
import type { ItemOutcome } from '../tpns/types.js';

export function recordItemOutcomes(kind: WorkKind, outcomes: readonly ItemOutcome[]): void {
  countWith('WorkItemsApplied', outcomes.filter((outcome) => outcome.ok).length, { kind });
  const failedByCode = new Map<string, number>();
  for (const outcome of outcomes) {
    if (!outcome.ok) failedByCode.set(outcome.code, (failedByCode.get(outcome.code) ?? 0) + 1);
  }
  for (const [code, count] of failedByCode) countWith('WorkItemsFailed', count, { kind, code });
}

/** `reason`: `invalid-message` (schema) or `refused-item` (TPNS refused for good). */
export function recordDeadLettered(reason: 'invalid-message' | 'refused-item', count: number): void {
  countWith('WorkDeadLettered', count, { reason });
}

export function recordRetried(count: number): void {
  if (count > 0) metrics.addMetric('WorkMessagesRetried', MetricUnit.Count, count);
}
