/**
 * Client configuration: validation and defaults of TpnsClientOptions. The options come from the
 * caller; the function set reads them from TPNS_* variables in lib/config/config.ts.
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
/** The option rules, also applied to the TPNS_* variables by lib/config/config.ts. */
export const regionSchema = z.enum(REGIONS, `must be one of ${REGIONS.join(', ')}`);
export const authSchema = z.enum(['sign', 'basic'], 'must be "sign" or "basic"');
export const endpointSchema = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const positiveInt = z.int('must be an integer').check(z.positive('must be positive'));
const nonNegativeInt = z.int('must be an integer').check(z.nonnegative('must not be negative'));
/** TPNS AccessIds are numeric (e.g. 1500001048). */
export const accessIdSchema = z.string().check(z.regex(/^\d+$/, 'must be a numeric TPNS AccessId'));
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

function configError(title: string, issues: readonly { path: PropertyKey[]; message: string }[]): TpnsConfigError {
  return new TpnsConfigError(`${title}: ${issues.map((issue) => `${issue.path.map(String).join('.')} ${issue.message}`).join('; ')}`);
}
