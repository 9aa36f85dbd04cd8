import { describe, expect, it } from 'vitest';
import { ConfigurationError, WORKER_TPNS_CONCURRENCY, configFromEnv } from '../../../lib/config/config.js';

const android = { TPNS_ANDROID_ACCESS_ID: '1500000001', TPNS_ANDROID_SECRET_KEY: 'android-secret-key' };

/** The message of the ConfigurationError `env` gets, or undefined when it is accepted. */
const refused = (env: Record<string, string>): string | undefined => {
  try {
    configFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  return undefined;
};

describe('configFromEnv: settings', () => {
  it('defaults: claim sub, scope tpns/admin, read-back after 15 s, 6 read-backs, receipts kept 30 days, 5 s direct cool-down, worker TPNS concurrency 10, sweep after 20 min', () => {
    expect(configFromEnv({})).toEqual({
      settings: {
        accountClaim: 'sub',
        adminScope: 'tpns/admin',
        verifyDelaySeconds: 15,
        erasureRetentionDays: 30,
        maxVerifyAttempts: 6,
        directCoolDownMs: 5_000,
        workerTpnsConcurrency: 10,
        sweepAfterSeconds: 1_200,
      },
      tpns: { apps: {} },
    });
  });

  it('reads the table, the queues, the erasure key and the convergence settings', () => {
    expect(
      configFromEnv({
        BINDINGS_TABLE: 'bindings',
        BINDING_QUEUE_URL: 'https://sqs/q',
        BINDING_DLQ_URL: 'https://sqs/dlq',
        VERIFY_DELAY_SECONDS: ' 1 ',
        MAX_VERIFY_ATTEMPTS: '2',
        ERASURE_RETENTION_DAYS: '90',
        ACCOUNT_CLAIM: 'uid',
        ADMIN_SCOPE: 'ops',
        DIRECT_COOL_DOWN_MS: '0',
        SWEEP_AFTER_SECONDS: '0',
        ERASURE_KEY: 'hmac-key',
      }),
    ).toEqual({
      settings: {
        accountClaim: 'uid',
        adminScope: 'ops',
        tableName: 'bindings',
        queueUrl: 'https://sqs/q',
        dlqUrl: 'https://sqs/dlq',
        verifyDelaySeconds: 1,
        maxVerifyAttempts: 2,
        erasureRetentionDays: 90,
        directCoolDownMs: 0,
        workerTpnsConcurrency: 10,
        sweepAfterSeconds: 0,
      },
      tpns: { apps: {} },
      erasureKey: 'hmac-key',
    });
  });

  it('names the variable and the value when it is out of range', () => {
    expect(refused({ VERIFY_DELAY_SECONDS: '901' })).toMatch(/VERIFY_DELAY_SECONDS: .*\(got "901"\)/); // SQS delays at most 900 s
    expect(refused({ VERIFY_DELAY_SECONDS: '1.5' })).toMatch(/VERIFY_DELAY_SECONDS: must be a whole number/);
    expect(refused({ MAX_VERIFY_ATTEMPTS: '0' })).toMatch(/MAX_VERIFY_ATTEMPTS: /);
    expect(refused({ ERASURE_RETENTION_DAYS: 'forever' })).toMatch(/ERASURE_RETENTION_DAYS: /);
    expect(refused({ SWEEP_AFTER_SECONDS: '86401' })).toMatch(/SWEEP_AFTER_SECONDS: .*\(got "86401"\)/);
    expect(refused({ VERIFY_DELAY_SECONDS: '0' })).toBeUndefined();
  });

  it('defaults the worker TPNS concurrency to a full batch and reads WORKER_TPNS_CONCURRENCY, apart from TPNS_CONCURRENCY', () => {
    expect(WORKER_TPNS_CONCURRENCY).toBe(10);
    const both = configFromEnv({ TPNS_CONCURRENCY: '4' });
    expect([both.settings.workerTpnsConcurrency, both.tpns.concurrency]).toEqual([10, 4]);
    expect(configFromEnv({ WORKER_TPNS_CONCURRENCY: ' 5 ' }).settings.workerTpnsConcurrency).toBe(5);
    for (const value of ['0', '-1', '2.5', 'ten']) {
      expect(refused({ WORKER_TPNS_CONCURRENCY: value })).toMatch(/WORKER_TPNS_CONCURRENCY: must be a positive integer/);
    }
  });
});

describe('configFromEnv: TPNS', () => {
  it('reads every variable', () => {
    const { tpns } = configFromEnv({
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
    expect(tpns).toEqual({
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
    const { tpns } = configFromEnv({ ...android, TPNS_IOS_ACCESS_ID: '', TPNS_IOS_SECRET_KEY: '', TPNS_REGION: '' });
    expect(Object.keys(tpns.apps)).toEqual(['android']);
    expect(tpns.region).toBeUndefined();
  });

  it('half a pair is a configuration error naming the missing variable, never the secret', () => {
    expect(refused({ ...android, TPNS_IOS_ACCESS_ID: '1600000001' })).toMatch(/TPNS_IOS_SECRET_KEY is not set .* but TPNS_IOS_ACCESS_ID is/);
    const secretOnly = refused({ ...android, TPNS_IOS_SECRET_KEY: 'ios-secret-value' });
    expect(secretOnly).toMatch(/TPNS_IOS_ACCESS_ID is not set but TPNS_IOS_SECRET_KEY is/);
    expect(secretOnly).not.toMatch(/ios-secret-value/);
  });

  it('names every bad variable in one ConfigurationError, never a secret or a TPNS value', () => {
    const message = refused({
      ...android,
      TPNS_REGION: 'mars',
      TPNS_AUTH: 'oauth',
      TPNS_CHUNK_SIZE: '0',
      TPNS_TIMEOUT_MS: 'fast',
      TPNS_ENDPOINT: 'ftp://x',
      TPNS_IOS_ACCESS_ID: 'abc',
      TPNS_IOS_SECRET_KEY: 'ios-secret-key',
      MAX_VERIFY_ATTEMPTS: '0',
    });
    for (const name of ['TPNS_REGION', 'TPNS_AUTH', 'TPNS_CHUNK_SIZE', 'TPNS_TIMEOUT_MS', 'TPNS_ENDPOINT', 'TPNS_IOS_ACCESS_ID', 'MAX_VERIFY_ATTEMPTS']) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('secret-key');
    expect(message).not.toContain('ftp://x');
  });
});
