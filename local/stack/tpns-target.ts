/**
 * Which TPNS the local stack talks to: the emulator, unless real app credentials
 * (TPNS_{ANDROID,IOS}_ACCESS_ID + _SECRET_KEY) are in the environment — then Tencent's access
 * point for TPNS_REGION (or TPNS_ENDPOINT), with only the platforms whose pair is set.
 *
 * Why hand-written: this service's own wiring and output, which no library knows (docs/architecture.md, "Why local/ is hand-written").
 */
import { configFromEnv } from '../../lib/config/config.js';
import { resolveClientSettings } from '../../lib/tpns/config.js';
import { PLATFORMS } from '../../lib/tpns/types.js';
import type { Platform } from '../../lib/tpns/types.js';

export type TpnsTarget =
  | { kind: 'emulator' }
  | { kind: 'tencent'; baseUrl: string; platforms: Platform[]; accessIds: Partial<Record<Platform, string>> };

/** The environment names a half-configured app; starting would silently drop that platform. */
export class TpnsCredentialsError extends Error {
  override readonly name = 'TpnsCredentialsError';
}

export function chooseTpnsTarget(env: Readonly<Record<string, string | undefined>>): TpnsTarget {
  const set = (name: string) => Boolean(env[name]?.trim());
  for (const platform of PLATFORMS) {
    const prefix = `TPNS_${platform.toUpperCase()}`;
    if (set(`${prefix}_ACCESS_ID`) !== set(`${prefix}_SECRET_KEY`)) {
      const [present, missing] = set(`${prefix}_ACCESS_ID`) ? ['ACCESS_ID', 'SECRET_KEY'] : ['SECRET_KEY', 'ACCESS_ID'];
      throw new TpnsCredentialsError(`${prefix}_${present} is set but ${prefix}_${missing} is not: set both for real TPNS, or neither for the emulator`);
    }
  }
  const options = configFromEnv(env).tpns;
  const platforms = PLATFORMS.filter((platform) => options.apps[platform]);
  if (platforms.length === 0) return { kind: 'emulator' };
  return {
    kind: 'tencent',
    baseUrl: resolveClientSettings(options).baseUrl,
    platforms,
    accessIds: Object.fromEntries(platforms.map((platform) => [platform, options.apps[platform]?.accessId])),
  };
}
