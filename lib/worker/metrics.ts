/** The worker's metrics (EMF), written once per invocation: what reconciling a batch did. */
import type { BatchReport } from '../convergence/reconciler.js';
import { countWith } from '../observability/metrics.js';

export function recordBatch(report: BatchReport, invalid: number): void {
  for (const [outcome, count] of Object.entries(report.counts)) countWith('KeysReconciled', count, { outcome });
  // Every dead letter also raises the dead-letter queue alarm (serverless.yml).
  countWith('KeysDeadLettered', report.deadLetters.length, { reason: 'key' });
  countWith('KeysDeadLettered', invalid, { reason: 'invalid-message' });
}
