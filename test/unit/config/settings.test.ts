import { describe, expect, it } from 'vitest';
import { ConfigurationError, settingsFromEnv } from '../../../lib/config/settings.js';

describe('settingsFromEnv', () => {
  it('defaults: claim sub, scope tpns/admin, read-back after 15 s, 6 read-backs, receipts kept 30 days, 5 s direct cool-down', () => {
    expect(settingsFromEnv({})).toEqual({
      accountClaim: 'sub',
      adminScope: 'tpns/admin',
      verifyDelaySeconds: 15,
      erasureRetentionDays: 30,
      maxVerifyAttempts: 6,
      directCoolDownMs: 5_000,
    });
  });

  it('reads the table, the queues and the convergence settings', () => {
    expect(
      settingsFromEnv({
        BINDINGS_TABLE: 'bindings',
        BINDING_QUEUE_URL: 'https://sqs/q',
        BINDING_DLQ_URL: 'https://sqs/dlq',
        VERIFY_DELAY_SECONDS: ' 1 ',
        MAX_VERIFY_ATTEMPTS: '2',
        ERASURE_RETENTION_DAYS: '90',
        ACCOUNT_CLAIM: 'uid',
        ADMIN_SCOPE: 'ops',
        DIRECT_COOL_DOWN_MS: '0',
      }),
    ).toEqual({
      accountClaim: 'uid',
      adminScope: 'ops',
      tableName: 'bindings',
      queueUrl: 'https://sqs/q',
      dlqUrl: 'https://sqs/dlq',
      verifyDelaySeconds: 1,
      maxVerifyAttempts: 2,
      erasureRetentionDays: 90,
      directCoolDownMs: 0,
    });
  });

  it('names the variable and the value when it is out of range', () => {
    const refused = (env: Record<string, string>) => {
      try {
        settingsFromEnv(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        return (error as Error).message;
      }
      return undefined;
    };
    expect(refused({ VERIFY_DELAY_SECONDS: '901' })).toMatch(/^VERIFY_DELAY_SECONDS: .*\(got "901"\)/); // SQS delays at most 900 s
    expect(refused({ VERIFY_DELAY_SECONDS: '1.5' })).toMatch(/^VERIFY_DELAY_SECONDS: must be a whole number/);
    expect(refused({ MAX_VERIFY_ATTEMPTS: '0' })).toMatch(/^MAX_VERIFY_ATTEMPTS: /);
    expect(refused({ ERASURE_RETENTION_DAYS: 'forever' })).toMatch(/^ERASURE_RETENTION_DAYS: /);
    expect(refused({ VERIFY_DELAY_SECONDS: '0' })).toBeUndefined();
  });
});
