/**
 * TPNS client events as metrics (the client's `onEvent`): calls and their latency per operation,
 * and retries by code. Added to the shared instance, so they are flushed with the invocation's
 * other metrics.
 */
import type { TpnsClientEvent } from '../tpns/types.js';
import { metrics, MetricUnit } from './metrics.js';

export function recordTpnsEvent(event: TpnsClientEvent): void {
  if (event.type === 'response') {
    metrics.addMetric('TpnsCalls', MetricUnit.Count, 1);
    metrics.addMetric('TpnsLatency', MetricUnit.Milliseconds, event.latencyMs);
  } else if (event.type === 'retry') {
    metrics.addMetric('TpnsRetries', MetricUnit.Count, 1);
  }
}
