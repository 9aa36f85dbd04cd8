import { describe, expect, it } from 'vitest';
import { WORKER_TPNS_CONCURRENCY, workerSettingsFromEnv } from '../../../lib/worker/index.js';

describe('workerSettingsFromEnv', () => {
  it('defaults the TPNS concurrency to a full batch and reads WORKER_TPNS_CONCURRENCY, ignoring TPNS_CONCURRENCY', () => {
    expect(WORKER_TPNS_CONCURRENCY).toBe(10);
    expect(workerSettingsFromEnv({}).tpnsConcurrency).toBe(10);
    expect(workerSettingsFromEnv({ TPNS_CONCURRENCY: '4' }).tpnsConcurrency).toBe(10);
    expect(workerSettingsFromEnv({ WORKER_TPNS_CONCURRENCY: ' 5 ' }).tpnsConcurrency).toBe(5);
  });

  it('names WORKER_TPNS_CONCURRENCY when it is not a positive integer', () => {
    for (const value of ['0', '-1', '2.5', 'ten']) {
      expect(() => workerSettingsFromEnv({ WORKER_TPNS_CONCURRENCY: value })).toThrow(/WORKER_TPNS_CONCURRENCY must be a positive integer/);
    }
  });
});
