/**
 * Request authentication the way TPNS does it: the `Sign` header (HMAC-SHA256, hex, then
 * Base64) or the older `Authorization: Basic`. Knows nothing of the client in lib/.
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type EmulatorPlatform = 'android' | 'ios';

export interface EmulatorApp {
  platform: EmulatorPlatform;
  accessId: string;
  secretKey: string;
}

/** Sign = Base64(hex(HMAC-SHA256(SecretKey, TimeStamp + AccessId + body))) — Base64 of the hex *string*. */
export function computeSign(secretKey: string, timeStamp: string, accessId: string, body: string | Buffer): string {
  const hex = createHmac('sha256', secretKey).update(timeStamp).update(accessId).update(body).digest('hex');
  return Buffer.from(hex, 'utf8').toString('base64');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export type AuthOutcome =
  | { ok: true; app: EmulatorApp; method: 'sign' | 'basic' }
  | { ok: false; reason: string };

/**
 * Finds the app that signed the request. Node lower-cases header names, so `AccessId`,
 * `TimeStamp` and `Sign` arrive as `accessid`, `timestamp`, `sign`.
 */
export function authenticate(
  headers: IncomingHttpHeaders,
  body: Buffer,
  apps: readonly EmulatorApp[],
): AuthOutcome {
  const authorization = headerValue(headers, 'authorization');
  if (authorization?.startsWith('Basic ')) {
    const decoded = Buffer.from(authorization.slice('Basic '.length).trim(), 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    const accessId = decoded.slice(0, separator);
    const secretKey = decoded.slice(separator + 1);
    const app = apps.find((candidate) => candidate.accessId === accessId);
    if (separator < 0 || !app || !safeEqual(app.secretKey, secretKey)) {
      return { ok: false, reason: 'basic auth: unknown AccessId or wrong SecretKey' };
    }
    return { ok: true, app, method: 'basic' };
  }

  const accessId = headerValue(headers, 'accessid');
  const timeStamp = headerValue(headers, 'timestamp');
  const sign = headerValue(headers, 'sign');
  if (!accessId || !timeStamp || !sign) {
    return { ok: false, reason: 'missing AccessId, TimeStamp or Sign header' };
  }
  const app = apps.find((candidate) => candidate.accessId === accessId);
  if (!app) return { ok: false, reason: 'unknown AccessId' };
  if (!safeEqual(computeSign(app.secretKey, timeStamp, accessId, body), sign)) {
    return { ok: false, reason: 'Sign does not match' };
  }
  return { ok: true, app, method: 'sign' };
}
