/**
 * TPNS client events as metrics (the client's `onEvent`): calls and their latency, answers by
 * operation and TPNS code, and retries by operation and code. The plain ones are added to the
 * shared instance (flushed with the invocation's other metrics); the dimensioned ones are
 * single metrics, so their dimensions stay on them.
 */
import type { TpnsClientEvent } from '../tpns/types.js';
import { countWith, metrics, MetricUnit } from './metrics.js';

/** `bind`, `remove-accounts`, `unbind-tokens`, `delete-accounts`, `query-tokens`, `query-accounts`. */
export function tpnsOperationName(path: string, operatorType: number): string {
  const names: Record<number, string> = path.endsWith('query')
    ? { 1: 'query-tokens', 2: 'query-accounts' }
    : { 1: 'bind', 2: 'bind', 3: 'remove-accounts', 4: 'unbind-tokens', 5: 'delete-accounts' };
  return names[operatorType] ?? `op-${operatorType}`;
}

export function recordTpnsEvent(event: TpnsClientEvent): void {
  if (event.type === 'response') {
    metrics.addMetric('TpnsCalls', MetricUnit.Count, 1);
    metrics.addMetric('TpnsLatency', MetricUnit.Milliseconds, event.latencyMs);
    countWith('TpnsAnswers', 1, { operation: tpnsOperationName(event.path, event.operatorType), code: event.retCode });
  } else if (event.type === 'retry') {
    countWith('TpnsRetries', 1, { operation: tpnsOperationName(event.path, event.operatorType), code: event.code });
  }
}
