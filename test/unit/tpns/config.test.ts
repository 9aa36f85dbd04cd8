import { describe, expect, it } from 'vitest';
import { resolveClientSettings, tpnsClientOptionsFromEnv } from '../../../lib/tpns/config.js';
import { DEFAULT_RETRY_POLICY } from '../../../lib/tpns/constants.js';
import { TpnsConfigError } from '../../../lib/tpns/errors.js';

const android = { TPNS_ANDROID_ACCESS_ID: '1500000001', TPNS_ANDROID_SECRET_KEY: 'android-secret-key' };

describe('tpnsClientOptionsFromEnv', () => {
  it('reads every variable', () => {
    const options = tpnsClientOptionsFromEnv({
      ...android,
      TPNS_IOS_ACCESS_ID: '1600000001',
      TPNS_IOS_SECRET_KEY: 'ios-secret-key',
      TPNS_REGION: 'ap-singapore',
      TPNS_ENDPOINT: 'http://127.0.0.1:4010',
      TPNS_AUTH: 'basic',
      TPNS_CHUNK_SIZE: '50',
      TPNS_CONCURRENCY: '2',
      TPNS_TIMEOUT_MS: '800',
      UNRELATED: 'x',
    });
    expect(options).toEqual({
      apps: {
        android: { accessId: '1500000001', secretKey: 'android-secret-key' },
        ios: { accessId: '1600000001', secretKey: 'ios-secret-key' },
      },
      region: 'singapore',
      endpoint: 'http://127.0.0.1:4010',
      auth: 'basic',
      chunkSize: 50,
      concurrency: 2,
      requestTimeoutMs: 800,
    });
  });

  it('a platform with neither an AccessId nor a SecretKey is not configured; empty means unset', () => {
    const options = tpnsClientOptionsFromEnv({ ...android, TPNS_IOS_ACCESS_ID: '', TPNS_IOS_SECRET_KEY: '', TPNS_REGION: '' });
    expect(Object.keys(options.apps)).toEqual(['android']);
    expect(options.region).toBeUndefined();
  });

  it('half a pair is a configuration error naming the missing variable, never the secret', () => {
    expect(() => tpnsClientOptionsFromEnv({ ...android, TPNS_IOS_ACCESS_ID: '1600000001' })).toThrow(/TPNS_IOS_SECRET_KEY is not set .* but TPNS_IOS_ACCESS_ID is/);
    const secretOnly = () => tpnsClientOptionsFromEnv({ ...android, TPNS_IOS_SECRET_KEY: 'ios-secret-value' });
    expect(secretOnly).toThrow(/TPNS_IOS_ACCESS_ID is not set but TPNS_IOS_SECRET_KEY is/);
    expect(secretOnly).not.toThrow(/ios-secret-value/);
  });

  it('names every bad variable in one TpnsConfigError, never a secret', () => {
    const attempt = () =>
      tpnsClientOptionsFromEnv({
        ...android,
        TPNS_REGION: 'mars',
        TPNS_AUTH: 'oauth',
        TPNS_CHUNK_SIZE: '0',
        TPNS_TIMEOUT_MS: 'fast',
        TPNS_ENDPOINT: 'ftp://x',
        TPNS_IOS_ACCESS_ID: 'abc',
        TPNS_IOS_SECRET_KEY: 'ios-secret-key',
      });
    expect(attempt).toThrow(TpnsConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    for (const name of ['TPNS_REGION', 'TPNS_AUTH', 'TPNS_CHUNK_SIZE', 'TPNS_TIMEOUT_MS', 'TPNS_ENDPOINT', 'TPNS_IOS_ACCESS_ID']) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('secret-key');
  });
});

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
