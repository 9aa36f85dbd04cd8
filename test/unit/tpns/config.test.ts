import { describe, expect, it } from 'vitest';
import { resolveClientSettings } from '../../../lib/tpns/config.js';
import { DEFAULT_RETRY_POLICY } from '../../../lib/tpns/constants.js';

describe('resolveClientSettings', () => {
  it('applies the defaults: Guangzhou host, sign auth, chunks of 20', () => {
    expect(resolveClientSettings({ apps: {} })).toEqual({
      apps: {},
      baseUrl: 'https://api.tpns.tencent.com',
      auth: 'sign',
      chunkSize: 20,
      concurrency: 4,
      requestTimeoutMs: 5_000,
      retry: DEFAULT_RETRY_POLICY,
    });
  });

  it('uses the region host, or the endpoint without a trailing slash', () => {
    expect(resolveClientSettings({ apps: {}, region: 'hongkong' }).baseUrl).toBe('https://api.tpns.hk.tencent.com');
    expect(resolveClientSettings({ apps: {}, region: 'shanghai', endpoint: 'http://localhost:4010/' }).baseUrl).toBe('http://localhost:4010');
  });

  it('merges a partial retry policy with the default', () => {
    expect(resolveClientSettings({ apps: {}, retry: { budgetMs: 0 } }).retry).toEqual({ ...DEFAULT_RETRY_POLICY, budgetMs: 0 });
  });

  it('refuses bad options by name', () => {
    expect(() => resolveClientSettings({ apps: {}, concurrency: 0 })).toThrow(/concurrency/);
    expect(() => resolveClientSettings({ apps: { ios: { accessId: '1', secretKey: '' } } })).toThrow(/apps\.ios\.secretKey/);
  });
});
