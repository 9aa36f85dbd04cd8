/**
 * Plain-HTTP access to an emulator for its own tests: the test's own signing (written from the
 * TPNS docs, not shared with lib/tpns or the emulator) and small fetch wrappers.
 */
import { createHmac } from 'node:crypto';
import type { TpnsEmulator } from '../../../local/tpns-emulator/index.js';

export const BATCH = '/v3/device/account/batchoperate';
export const QUERY = '/v3/device/account/query';

export type Platform = 'android' | 'ios';

/** Base64 over the lowercase hex digest string, as the TPNS auth page describes. */
export function sign(secretKey: string, timeStamp: string, accessId: string, body: string): string {
  const hex = createHmac('sha256', secretKey).update(`${timeStamp}${accessId}${body}`).digest('hex');
  return Buffer.from(hex).toString('base64');
}

export interface EmulatorAnswer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

export interface SendOptions {
  platform?: Platform;
  /** Signed with these credentials instead of the platform app's. */
  credentials?: { accessId: string; secretKey: string };
  auth?: 'sign' | 'basic' | 'none';
  /** Raw body sent as is (for unparsable JSON). */
  raw?: string;
}

/** POSTs `body` to an API path, authenticated like a TPNS client. */
export async function send(emulator: TpnsEmulator, path: string, body: unknown, options: SendOptions = {}): Promise<EmulatorAnswer> {
  const raw = options.raw ?? JSON.stringify(body);
  const { accessId, secretKey } = options.credentials ?? emulator.apps[options.platform ?? 'android'];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const auth = options.auth ?? 'sign';
  if (auth === 'sign') {
    const timeStamp = String(Math.floor(Date.now() / 1000));
    Object.assign(headers, { AccessId: accessId, TimeStamp: timeStamp, Sign: sign(secretKey, timeStamp, accessId, raw) });
  } else if (auth === 'basic') {
    headers.Authorization = `Basic ${Buffer.from(`${accessId}:${secretKey}`).toString('base64')}`;
  }
  const response = await fetch(`${emulator.url}${path}`, { method: 'POST', headers, body: raw });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
}

/** A control API call; answers the parsed JSON and the status. */
export async function control(emulator: TpnsEmulator, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${emulator.url}/_emulator${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** op 2 of one token to one account (account_type omitted unless given). */
export function bindBody(platform: Platform, pairs: [token: string, account: string, accountType?: number][]): unknown {
  return {
    operator_type: 2,
    platform,
    token_accounts: pairs.map(([token, account, accountType]) => ({
      token,
      account_list: [accountType === undefined ? { account } : { account, account_type: accountType }],
    })),
  };
}

