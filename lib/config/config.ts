/**
 * The one configuration loader. Every variable the functions, the worker and the CLI read is
 * validated here with zod, once per cold start, into a typed Config; nothing else reads the
 * environment. Deployed secrets are SSM parameters, resolved first (secrets.ts). The AWS SDK's
 * own variables (AWS_REGION, AWS_ENDPOINT_URL_*) and Powertools' (POWERTOOLS_*) are left to them.
 */
import * as z from 'zod/mini';
import { accessIdSchema, authSchema, endpointSchema, regionSchema } from '../tpns/config.js';
import { PLATFORMS } from '../tpns/types.js';
import type { AppCredentials, Platform, TpnsClientOptions } from '../tpns/types.js';
import { resolveSecretKeys } from './secrets.js';

/** The function set's settings: everything that is not a credential. */
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
  /** TPNS calls in flight per operation in the queue worker (the functions use TPNS_CONCURRENCY). */
  workerTpnsConcurrency: number;
  /** How long an unverified token's work may stand still before the sweep queues it again. */
  sweepAfterSeconds: number;
}

export interface Config {
  settings: Settings;
  /** The TPNS client's options: apps with their credentials, access point, limits. */
  tpns: TpnsClientOptions;
  /** HMAC key of the account index and erasure tombstones (ERASURE_KEY, or ERASURE_KEY_PARAM deployed). */
  erasureKey?: string;
}

export const DEFAULT_ACCOUNT_CLAIM = 'sub';
export const DEFAULT_ADMIN_SCOPE = 'tpns/admin';
export const DEFAULT_VERIFY_DELAY_SECONDS = 15;
export const DEFAULT_ERASURE_RETENTION_DAYS = 30;
export const DEFAULT_MAX_VERIFY_ATTEMPTS = 6;
export const DEFAULT_DIRECT_COOL_DOWN_MS = 5_000;
/**
 * A key with live work moves (is recorded, claimed or pushed) at least every 15 min, SQS's
 * longest delay, which caps both backoffs. 20 min of stillness so means its queued work was lost.
 */
export const DEFAULT_SWEEP_AFTER_SECONDS = 1_200;
/**
 * A batch of up to 100 key messages is coalesced into a few TPNS calls per app and kind (20 keys
 * each); 10 in flight send them in one round trip. Per app, the calls in flight are at most
 * workerMaxConcurrency x this; keep that under TPNS's rate limit x round trip
 * (docs/capacity.md), or TPNS answers 1008028 and the keys come back later.
 */
export const WORKER_TPNS_CONCURRENCY = 10;

/**
 * Local runs and tests only: deployed functions read ERASURE_KEY_PARAM (serverless.yml). Here,
 * in a module that loads no logger, so the local stack can import it before its environment is set.
 */
export const LOCAL_ERASURE_KEY = 'tpns-account-sync-local-erasure-key';

/** One or more variables are set to something the function set cannot use; the message names each. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

const text = z.optional(z.string());
const wholeNumber = (min: number, max: number) =>
  z.optional(
    z.pipe(z.string().check(z.regex(/^\d+$/, 'must be a whole number')), z.transform(Number)).check(
      z.gte(min, `must be at least ${min}`),
      z.lte(max, `must be at most ${max}`),
    ),
  );
const positiveInt = z.optional(z.pipe(z.string().check(z.regex(/^[1-9]\d*$/, 'must be a positive integer')), z.transform(Number)));
const accessId = z.optional(accessIdSchema);

const envSchema = z.object({
  ACCOUNT_CLAIM: text,
  ADMIN_SCOPE: text,
  BINDING_QUEUE_URL: text,
  BINDING_DLQ_URL: text,
  BINDINGS_TABLE: text,
  ERASURE_KEY: text,
  // SQS delays a message by at most 900 s.
  VERIFY_DELAY_SECONDS: wholeNumber(0, 900),
  ERASURE_RETENTION_DAYS: wholeNumber(1, 3650),
  MAX_VERIFY_ATTEMPTS: wholeNumber(1, 50),
  DIRECT_COOL_DOWN_MS: wholeNumber(0, 600_000),
  WORKER_TPNS_CONCURRENCY: positiveInt,
  SWEEP_AFTER_SECONDS: wholeNumber(0, 86_400),
  /** Accepts Tencent's region ids too (`ap-guangzhou`). */
  TPNS_REGION: z.optional(z.pipe(z.transform((value: string) => value.replace(/^ap-/, '')), regionSchema)),
  TPNS_ENDPOINT: z.optional(endpointSchema),
  TPNS_AUTH: z.optional(authSchema),
  TPNS_CHUNK_SIZE: positiveInt,
  TPNS_CONCURRENCY: positiveInt,
  TPNS_TIMEOUT_MS: positiveInt,
  TPNS_ANDROID_ACCESS_ID: accessId,
  TPNS_ANDROID_SECRET_KEY: text,
  TPNS_IOS_ACCESS_ID: accessId,
  TPNS_IOS_SECRET_KEY: text,
});
type Variable = keyof typeof envSchema.shape;
const VARIABLES = Object.keys(envSchema.shape) as Variable[];
/** Values a message may quote: never a credential, a key or a URL that could carry one. */
const QUOTABLE = new Set<Variable>(['VERIFY_DELAY_SECONDS', 'ERASURE_RETENTION_DAYS', 'MAX_VERIFY_ATTEMPTS', 'DIRECT_COOL_DOWN_MS', 'WORKER_TPNS_CONCURRENCY', 'SWEEP_AFTER_SECONDS']);

/**
 * The configuration from an environment whose secrets are already plain (tests, the local stack).
 * Empty variables count as unset. Throws one ConfigurationError naming every bad variable.
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): Config {
  const set: Partial<Record<Variable, string>> = {};
  for (const name of VARIABLES) {
    const value = env[name]?.trim();
    if (value) set[name] = value;
  }
  const parsed = envSchema.safeParse(set);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]) as Variable;
        return `${name}: ${issue.message}${QUOTABLE.has(name) ? ` (got "${set[name]}")` : ''}`;
      });
  const apps: Partial<Record<Platform, AppCredentials>> = {};
  for (const platform of PLATFORMS) {
    const prefix = `TPNS_${platform === 'android' ? 'ANDROID' : 'IOS'}` as const;
    const id = set[`${prefix}_ACCESS_ID`];
    const secretKey = set[`${prefix}_SECRET_KEY`];
    if (id && secretKey) apps[platform] = { accessId: id, secretKey };
    // Half a pair would silently leave the platform unconfigured: say which variable is missing.
    else if (id) problems.push(`${prefix}_SECRET_KEY is not set (or ${prefix}_SECRET_KEY_PARAM deployed) but ${prefix}_ACCESS_ID is: set both, or neither to leave ${platform} unconfigured`);
    else if (secretKey) problems.push(`${prefix}_ACCESS_ID is not set but ${prefix}_SECRET_KEY is: set both, or neither to leave ${platform} unconfigured`);
  }
  if (!parsed.success || problems.length > 0) throw new ConfigurationError(`Invalid configuration: ${problems.join('; ')}`);
  const vars = parsed.data;
  const tpns: TpnsClientOptions = {
    apps,
    ...(vars.TPNS_REGION ? { region: vars.TPNS_REGION } : {}),
    ...(vars.TPNS_ENDPOINT ? { endpoint: vars.TPNS_ENDPOINT } : {}),
    ...(vars.TPNS_AUTH ? { auth: vars.TPNS_AUTH } : {}),
    ...(vars.TPNS_CHUNK_SIZE === undefined ? {} : { chunkSize: vars.TPNS_CHUNK_SIZE }),
    ...(vars.TPNS_CONCURRENCY === undefined ? {} : { concurrency: vars.TPNS_CONCURRENCY }),
    ...(vars.TPNS_TIMEOUT_MS === undefined ? {} : { requestTimeoutMs: vars.TPNS_TIMEOUT_MS }),
  };
  return {
    settings: {
      accountClaim: vars.ACCOUNT_CLAIM ?? DEFAULT_ACCOUNT_CLAIM,
      adminScope: vars.ADMIN_SCOPE ?? DEFAULT_ADMIN_SCOPE,
      ...(vars.BINDING_QUEUE_URL ? { queueUrl: vars.BINDING_QUEUE_URL } : {}),
      ...(vars.BINDING_DLQ_URL ? { dlqUrl: vars.BINDING_DLQ_URL } : {}),
      ...(vars.BINDINGS_TABLE ? { tableName: vars.BINDINGS_TABLE } : {}),
      verifyDelaySeconds: vars.VERIFY_DELAY_SECONDS ?? DEFAULT_VERIFY_DELAY_SECONDS,
      erasureRetentionDays: vars.ERASURE_RETENTION_DAYS ?? DEFAULT_ERASURE_RETENTION_DAYS,
      maxVerifyAttempts: vars.MAX_VERIFY_ATTEMPTS ?? DEFAULT_MAX_VERIFY_ATTEMPTS,
      directCoolDownMs: vars.DIRECT_COOL_DOWN_MS ?? DEFAULT_DIRECT_COOL_DOWN_MS,
      workerTpnsConcurrency: vars.WORKER_TPNS_CONCURRENCY ?? WORKER_TPNS_CONCURRENCY,
      sweepAfterSeconds: vars.SWEEP_AFTER_SECONDS ?? DEFAULT_SWEEP_AFTER_SECONDS,
    },
    tpns,
    ...(vars.ERASURE_KEY ? { erasureKey: vars.ERASURE_KEY } : {}),
  };
}

/** The configuration, with the SSM parameters a deployment names (TPNS_*_SECRET_KEY_PARAM, ERASURE_KEY_PARAM) read first. */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  return configFromEnv(await resolveSecretKeys(env));
}
