import { describe, expect, it } from 'vitest';
import { WORKER_RETRY_BUDGET_MS } from '../../../lib/tpns/index.js';
import { workerSettingsFromEnv } from '../../../lib/worker/index.js';

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
});
