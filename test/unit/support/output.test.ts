import { describe, expect, it } from 'vitest';
import { logger } from '../../../lib/observability/logger.js';
import { countWith, metrics } from '../../../lib/observability/metrics.js';
import { captureOutput } from '../../support/output.js';

describe('captured output and its matchers', () => {
  it('toHaveLogged finds a JSON log line by its fields, and says what was logged when it does not', () => {
    const output = captureOutput({ passThrough: false });
    try {
      logger.warn('Key refused by TPNS for good; dead-lettered', { code: '1008006' });
    } finally {
      output.stop();
    }
    expect(output).toHaveLogged({ level: 'WARN', message: 'Key refused by TPNS for good; dead-lettered', code: '1008006' });
    expect(output).not.toHaveLogged({ level: 'ERROR' });
    expect(() => expect(output).toHaveLogged({ message: 'Batch reconciled' })).toThrow(/Key refused by TPNS for good/);
  });

  it('toHaveEmittedMetric sums EMF points by name and dimensions', () => {
    const output = captureOutput({ passThrough: false });
    try {
      countWith('KeysDeadLettered', 2, { reason: 'key' });
      countWith('KeysDeadLettered', 1, { reason: 'invalid-message' });
    } finally {
      output.stop();
    }
    expect(output).toHaveEmittedMetric('KeysDeadLettered', { sum: 3 });
    expect(output).toHaveEmittedMetric('KeysDeadLettered', { dimensions: { reason: 'key' }, sum: 2 });
    expect(output).not.toHaveEmittedMetric('KeysReconciled');
    expect(() => expect(output).toHaveEmittedMetric('KeysDeadLettered', { sum: 4 })).toThrow(/sums to 3/);
  });
});

describe('metrics', () => {
  it('an invocation that counted nothing (a read, an idle batch) publishes without a warning line', () => {
    const output = captureOutput({ passThrough: false });
    try {
      metrics.publishStoredMetrics();
    } finally {
      output.stop();
    }
    expect(output).not.toHaveLogged({ level: 'WARN' });
  });
});
