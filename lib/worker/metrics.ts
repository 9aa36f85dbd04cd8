/** The worker's metrics (EMF): items applied/failed by kind and code, dead letters, retries. */
import { countWith, metrics, MetricUnit } from '../observability/metrics.js';
import type { WorkKind } from '../queue/messages.js';
import type { ItemOutcome } from '../tpns/types.js';

/**
 * Item outcomes of a whole invocation, written once at its end: one EMF line per kind and per
 * (kind, code) rather than per message (each single metric re-reads the POWERTOOLS_* settings,
 * which showed up in the worker's CPU profile).
 */
export class ItemOutcomeCounts {
  readonly #applied = new Map<WorkKind, number>();
  readonly #failed = new Map<string, { kind: WorkKind; code: string; count: number }>();

  add(kind: WorkKind, outcomes: readonly ItemOutcome[]): void {
    for (const outcome of outcomes) {
      if (outcome.ok) {
        this.#applied.set(kind, (this.#applied.get(kind) ?? 0) + 1);
        continue;
      }
      const key = `${kind}/${outcome.code}`;
      const failed = this.#failed.get(key) ?? { kind, code: outcome.code, count: 0 };
      failed.count += 1;
      this.#failed.set(key, failed);
    }
  }

  record(): void {
    for (const [kind, count] of this.#applied) countWith('WorkItemsApplied', count, { kind });
    for (const { kind, code, count } of this.#failed.values()) countWith('WorkItemsFailed', count, { kind, code });
  }
}

/** `reason`: `invalid-message` (schema) or `refused-item` (TPNS refused for good). */
export function recordDeadLettered(reason: 'invalid-message' | 'refused-item', count: number): void {
  countWith('WorkDeadLettered', count, { reason });
}

export function recordRetried(count: number): void {
  if (count > 0) metrics.addMetric('WorkMessagesRetried', MetricUnit.Count, count);
}
