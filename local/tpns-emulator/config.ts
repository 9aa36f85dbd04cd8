/**
 * Emulator settings from the same TPNS_* variables the client reads, so one environment makes
 * both agree. Unset credentials fall back to fixed local-only defaults (documented in
 * docs/emulator.md); they are not secrets.
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import type { EmulatorApp, EmulatorPlatform } from './auth.js';
import type { ApplyWindow } from './runtime.js';

export const DEFAULT_APPS: Readonly<Record<EmulatorPlatform, EmulatorApp>> = {
  android: { platform: 'android', accessId: '1500000001', secretKey: 'emulator-android-secret-key' },
  ios: { platform: 'ios', accessId: '1600000001', secretKey: 'emulator-ios-secret-key' },
};

/**
 * A SecretKey as banners show it: the built-in one in full (to paste into a client); one from the
 * environment may be real (the same shell as the CLI's), so only its first 4 characters and length.
 */
export const shownSecretKey = (platform: EmulatorPlatform, key: string): string =>
  key === DEFAULT_APPS[platform].secretKey ? key : `${key.slice(0, 4)}... (${key.length} characters, from TPNS_${platform.toUpperCase()}_SECRET_KEY)`;

export const DEFAULT_PORT = 4010;

export interface EmulatorEnvSettings {
  apps: Record<EmulatorPlatform, EmulatorApp>;
  propagationDelayMs: number;
  /** Reordering mode (null: off, changes applied in order after propagationDelayMs). */
  applyWindow: ApplyWindow | null;
  invalidTokens: string[];
  port: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const value = (env: Env, name: string): string | undefined => env[name]?.trim() || undefined;

function nonNegativeInt(env: Env, name: string, fallback: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a non-negative integer`);
  return Number(raw);
}

/** `MIN-MAX` in ms, e.g. `200-1500`; with TPNS_EMULATOR_APPLY_SEED the delays repeat run after run. */
function applyWindow(env: Env): ApplyWindow | null {
  const raw = value(env, 'TPNS_EMULATOR_APPLY_WINDOW_MS');
  const seedRaw = value(env, 'TPNS_EMULATOR_APPLY_SEED');
  if (raw === undefined) {
    // A seed alone would silently do nothing: say so rather than run in order unexpectedly.
    if (seedRaw !== undefined) throw new Error('TPNS_EMULATOR_APPLY_SEED needs TPNS_EMULATOR_APPLY_WINDOW_MS');
    return null;
  }
  const match = /^(\d+)\s*-\s*(\d+)$/.exec(raw);
  const [minMs, maxMs] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(minMs <= maxMs)) throw new Error('TPNS_EMULATOR_APPLY_WINDOW_MS must be MIN-MAX in ms with MIN <= MAX (e.g. 200-1500)');
  if (seedRaw === undefined) return { minMs, maxMs };
  if (!/^-?\d+$/.test(seedRaw)) throw new Error('TPNS_EMULATOR_APPLY_SEED must be an integer');
  return { minMs, maxMs, seed: Number(seedRaw) };
}

/**
 * Reads TPNS_{ANDROID,IOS}_{ACCESS_ID,SECRET_KEY} and
 * TPNS_EMULATOR_{PORT,PROPAGATION_MS,APPLY_WINDOW_MS,APPLY_SEED,INVALID_TOKENS}.
 */
export function emulatorSettingsFromEnv(env: Env): EmulatorEnvSettings {
  const app = (platform: EmulatorPlatform): EmulatorApp => {
    const prefix = `TPNS_${platform.toUpperCase()}`;
    return {
      platform,
      accessId: value(env, `${prefix}_ACCESS_ID`) ?? DEFAULT_APPS[platform].accessId,
      secretKey: value(env, `${prefix}_SECRET_KEY`) ?? DEFAULT_APPS[platform].secretKey,
    };
  };
  const apps = { android: app('android'), ios: app('ios') };
  if (apps.android.accessId === apps.ios.accessId) {
    throw new Error('TPNS_ANDROID_ACCESS_ID and TPNS_IOS_ACCESS_ID must differ (each app has its own AccessId)');
  }
  return {
    apps,
    propagationDelayMs: nonNegativeInt(env, 'TPNS_EMULATOR_PROPAGATION_MS', 0),
    applyWindow: applyWindow(env),
    invalidTokens: (value(env, 'TPNS_EMULATOR_INVALID_TOKENS') ?? '')
      .split(',')
      .map((token) => token.trim())
      .filter(Boolean),
    port: nonNegativeInt(env, 'TPNS_EMULATOR_PORT', DEFAULT_PORT),
  };
}
