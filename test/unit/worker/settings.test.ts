import { describe, expect, it } from 'vitest';
import { WORKER_RETRY_BUDGET_MS } from '../../../lib/tpns/index.js';
import { WORKER_TPNS_CONCURRENCY, workerSettingsFromEnv } from '../../../lib/worker/index.js';

describe('workerSettingsFromEnv', () => {
  it('defaults the retry budget to the worker budget and reads WORKER_RETRY_BUDGET_MS', () => {
    expect(workerSettingsFromEnv({}).retryBudgetMs).toBe(WORKER_RETRY_BUDGET_MS);
    expect(workerSettingsFromEnv({ WORKER_RETRY_BUDGET_MS: '' }).retryBudgetMs).toBe(WORKER_RETRY_BUDGET_MS);
    expect(workerSettingsFromEnv({ WORKER_RETRY_BUDGET_MS: '0' }).retryBudgetMs).toBe(0);
    expect(workerSettingsFromEnv({ WORKER_RETRY_BUDGET_MS: '45000' }).retryBudgetMs).toBe(45_000);
  });

  it('names the variable when it is not a duration', () => {
    expect(() => workerSettingsFromEnv({ WORKER_RETRY_BUDGET_MS: '20s' })).toThrow(/WORKER_RETRY_BUDGET_MS must be a whole number of milliseconds/);
    expect(() => workerSettingsFromEnv({ WORKER_RETRY_BUDGET_MS: '-1' })).toThrow(/WORKER_RETRY_BUDGET_MS/);
  });

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
