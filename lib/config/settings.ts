/** The function set's own settings (everything that is not TPNS credentials), from env. */
import * as z from 'zod/mini';

export interface Settings {
  /** JWT claim holding the account (product spec: default `sub`). */
  accountClaim: string;
  /** OAuth scope the `/v1/admin/*` routes require (default `tpns/admin`). */
  adminScope: string;
  queueUrl?: string;
  dlqUrl?: string;
  /** The intent ledger's DynamoDB table. */
  tableName?: string;
  /** Seconds after a push before TPNS is read back. */
  verifyDelaySeconds: number;
  /** Days an erasure receipt is kept. */
  erasureRetentionDays: number;
  /** Read-backs that may find TPNS different before a key is dead-lettered. */
  maxVerifyAttempts: number;
  /** How long a container queues instead of pushing directly after TPNS struggled (0: never). */
  directCoolDownMs: number;
}

export const DEFAULT_ACCOUNT_CLAIM = 'sub';
export const DEFAULT_ADMIN_SCOPE = 'tpns/admin';
export const DEFAULT_VERIFY_DELAY_SECONDS = 15;
export const DEFAULT_ERASURE_RETENTION_DAYS = 30;
export const DEFAULT_MAX_VERIFY_ATTEMPTS = 6;
export const DEFAULT_DIRECT_COOL_DOWN_MS = 5_000;

/** A variable set to something out of range: the message names it. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

const wholeNumber = (min: number, max: number) => z.pipe(z.string().check(z.regex(/^\d+$/, 'must be a whole number')), z.transform(Number)).check(z.gte(min), z.lte(max));

function read(env: NodeJS.ProcessEnv, name: string, schema: z.ZodMiniType<number>, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ConfigurationError(`${name}: ${parsed.error.issues[0]?.message ?? 'invalid'} (got "${raw}")`);
  return parsed.data;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  return {
    accountClaim: env.ACCOUNT_CLAIM || DEFAULT_ACCOUNT_CLAIM,
    adminScope: env.ADMIN_SCOPE || DEFAULT_ADMIN_SCOPE,
    ...(env.BINDING_QUEUE_URL ? { queueUrl: env.BINDING_QUEUE_URL } : {}),
    ...(env.BINDING_DLQ_URL ? { dlqUrl: env.BINDING_DLQ_URL } : {}),
    ...(env.BINDINGS_TABLE ? { tableName: env.BINDINGS_TABLE } : {}),
    // SQS delays a message by at most 900 s.
    verifyDelaySeconds: read(env, 'VERIFY_DELAY_SECONDS', wholeNumber(0, 900), DEFAULT_VERIFY_DELAY_SECONDS),
    erasureRetentionDays: read(env, 'ERASURE_RETENTION_DAYS', wholeNumber(1, 3650), DEFAULT_ERASURE_RETENTION_DAYS),
    maxVerifyAttempts: read(env, 'MAX_VERIFY_ATTEMPTS', wholeNumber(1, 50), DEFAULT_MAX_VERIFY_ATTEMPTS),
    directCoolDownMs: read(env, 'DIRECT_COOL_DOWN_MS', wholeNumber(0, 600_000), DEFAULT_DIRECT_COOL_DOWN_MS),
  };
}
