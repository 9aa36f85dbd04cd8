/**
 * Emulator settings from the same TPNS_* variables the client reads, so one environment makes
 * both agree. Unset credentials fall back to fixed local-only defaults (documented in
 * docs/emulator.md); they are not secrets.
 */
import type { EmulatorApp, EmulatorPlatform } from './auth.js';

export const DEFAULT_APPS: Readonly<Record<EmulatorPlatform, EmulatorApp>> = {
  android: { platform: 'android', accessId: '1500000001', secretKey: 'emulator-android-secret-key' },
  ios: { platform: 'ios', accessId: '1600000001', secretKey: 'emulator-ios-secret-key' },
};

export const DEFAULT_PORT = 4010;

export interface EmulatorEnvSettings {
  apps: Record<EmulatorPlatform, EmulatorApp>;
  propagationDelayMs: number;
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

/** Reads TPNS_{ANDROID,IOS}_{ACCESS_ID,SECRET_KEY}, TPNS_EMULATOR_{PORT,PROPAGATION_MS,INVALID_TOKENS}. */
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
    invalidTokens: (value(env, 'TPNS_EMULATOR_INVALID_TOKENS') ?? '')
      .split(',')
      .map((token) => token.trim())
      .filter(Boolean),
    port: nonNegativeInt(env, 'TPNS_EMULATOR_PORT', DEFAULT_PORT),
  };
}
