/**
 * Client configuration: validation and defaults of TpnsClientOptions, and the same options read
 * from TPNS_* environment variables. Deployed functions resolve SecretKeys from SSM first and
 * pass the resulting environment in (see lib/config/secrets.ts); this file never reads SSM.
 */
import * as z from 'zod/mini';
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_REGION,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY_POLICY,
  TPNS_HOSTS,
} from './constants.js';
import { TpnsConfigError } from './errors.js';
import { PLATFORMS } from './types.js';
import type { AppCredentials, AuthMode, Platform, Region, RetryPolicy, TpnsClientOptions } from './types.js';

const REGIONS = Object.keys(TPNS_HOSTS) as [Region, ...Region[]];
const regionSchema = z.enum(REGIONS, `must be one of ${REGIONS.join(', ')}`);
const authSchema = z.enum(['sign', 'basic'], 'must be "sign" or "basic"');
const endpointSchema = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const positiveInt = z.int('must be an integer').check(z.positive('must be positive'));
const nonNegativeInt = z.int('must be an integer').check(z.nonnegative('must not be negative'));
/** TPNS AccessIds are numeric (e.g. 1500001048). */
const accessIdSchema = z.string().check(z.regex(/^\d+$/, 'must be a numeric TPNS AccessId'));
const appSchema = z.object({ accessId: accessIdSchema, secretKey: z.string().check(z.minLength(1, 'must not be empty')) });

const optionsSchema = z.object({
  apps: z.object({ android: z.optional(appSchema), ios: z.optional(appSchema) }),
  region: z.optional(regionSchema),
  endpoint: z.optional(endpointSchema),
  auth: z.optional(authSchema),
  chunkSize: z.optional(positiveInt),
  concurrency: z.optional(positiveInt),
  requestTimeoutMs: z.optional(positiveInt),
  retry: z.optional(
    z.object({
      budgetMs: z.optional(nonNegativeInt),
      baseDelayMs: z.optional(positiveInt),
      maxDelayMs: z.optional(positiveInt),
    }),
  ),
});

/** Options with every default applied. */
export interface ClientSettings {
  apps: Partial<Record<Platform, AppCredentials>>;
  baseUrl: string;
  auth: AuthMode;
  chunkSize: number;
  concurrency: number;
  requestTimeoutMs: number;
  retry: RetryPolicy;
}

/** Validates `options` (throws TpnsConfigError naming each bad field, never a value) and applies defaults. */
export function resolveClientSettings(options: TpnsClientOptions): ClientSettings {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw configError('Invalid TPNS client options', parsed.error.issues);
  const { apps, region = DEFAULT_REGION, endpoint, auth = 'sign', retry } = parsed.data;
  return {
    apps: Object.fromEntries(PLATFORMS.flatMap((platform) => (apps[platform] ? [[platform, apps[platform]]] : []))),
    baseUrl: endpoint ? endpoint.replace(/\/+$/, '') : `https://${TPNS_HOSTS[region]}`,
    auth,
    chunkSize: parsed.data.chunkSize ?? DEFAULT_CHUNK_SIZE,
    concurrency: parsed.data.concurrency ?? DEFAULT_CONCURRENCY,
    requestTimeoutMs: parsed.data.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    retry: { ...DEFAULT_RETRY_POLICY, ...retry },
  };
}

const envInt = z.optional(z.pipe(z.string().check(z.regex(/^[1-9]\d*$/, 'must be a positive integer')), z.transform(Number)));
const envSchema = z.object({
  /** Accepts Tencent's region ids too (`ap-guangzhou`). */
  TPNS_REGION: z.optional(z.pipe(z.transform((value: string) => value.replace(/^ap-/, '')), regionSchema)),
  TPNS_ENDPOINT: z.optional(endpointSchema),
  TPNS_AUTH: z.optional(authSchema),
  TPNS_CHUNK_SIZE: envInt,
  TPNS_CONCURRENCY: envInt,
  TPNS_TIMEOUT_MS: envInt,
  TPNS_ANDROID_ACCESS_ID: z.optional(accessIdSchema),
  TPNS_IOS_ACCESS_ID: z.optional(accessIdSchema),
});

/**
 * Client options from TPNS_REGION, TPNS_ENDPOINT, TPNS_AUTH, TPNS_{ANDROID,IOS}_ACCESS_ID and
 * _SECRET_KEY, TPNS_CHUNK_SIZE, TPNS_CONCURRENCY, TPNS_TIMEOUT_MS. Empty variables count as unset;
 * a platform with neither an AccessId nor a SecretKey is not configured; one without the other is
 * an error. Throws TpnsConfigError naming every bad variable.
 */
export function tpnsClientOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): TpnsClientOptions {
  const set = Object.fromEntries(Object.entries(env).filter(([name, value]) => name.startsWith('TPNS_') && value?.trim()));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) throw configError('Invalid TPNS environment', parsed.error.issues);
  const vars = parsed.data;
  const apps: Partial<Record<Platform, AppCredentials>> = {};
  const halves: string[] = [];
  for (const platform of PLATFORMS) {
    const prefix = `TPNS_${platform.toUpperCase()}`;
    const accessId = set[`${prefix}_ACCESS_ID`];
    const secretKey = set[`${prefix}_SECRET_KEY`];
    if (accessId && secretKey) apps[platform] = { accessId, secretKey };
    // Half a pair would silently leave the platform unconfigured: say which variable is missing.
    else if (accessId) halves.push(`${prefix}_SECRET_KEY is not set (or ${prefix}_SECRET_KEY_PARAM deployed) but ${prefix}_ACCESS_ID is: set both, or neither to leave ${platform} unconfigured`);
    else if (secretKey) halves.push(`${prefix}_ACCESS_ID is not set but ${prefix}_SECRET_KEY is: set both, or neither to leave ${platform} unconfigured`);
  }
  if (halves.length > 0) throw new TpnsConfigError(`Invalid TPNS environment: ${halves.join('; ')}`);
  const options: TpnsClientOptions = { apps };
  if (vars.TPNS_REGION) options.region = vars.TPNS_REGION;
  if (vars.TPNS_ENDPOINT) options.endpoint = vars.TPNS_ENDPOINT;
  if (vars.TPNS_AUTH) options.auth = vars.TPNS_AUTH;
  if (vars.TPNS_CHUNK_SIZE !== undefined) options.chunkSize = vars.TPNS_CHUNK_SIZE;
  if (vars.TPNS_CONCURRENCY !== undefined) options.concurrency = vars.TPNS_CONCURRENCY;
  if (vars.TPNS_TIMEOUT_MS !== undefined) options.requestTimeoutMs = vars.TPNS_TIMEOUT_MS;
  resolveClientSettings(options); // the range rules (e.g. chunk size > 0) live there
  return options;
}

function configError(title: string, issues: readonly { path: PropertyKey[]; message: string }[]): TpnsConfigError {
  return new TpnsConfigError(`${title}: ${issues.map((issue) => `${issue.path.map(String).join('.')} ${issue.message}`).join('; ')}`);
}
