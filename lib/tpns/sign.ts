/**
 * TPNS request authentication.
 *
 * Signature auth (recommended): Sign = Base64(hex(HMAC-SHA256(SecretKey, TimeStamp + AccessId + body))).
 * The Base64 is taken over the lowercase hex *string*, not the raw digest: that is what Tencent's
 * published example produces. The body signed must be byte-for-byte the body sent.
 */
import { createHmac } from 'node:crypto';
import type { AppCredentials, AuthMode } from './types.js';

export function signRequest(secretKey: string, timestamp: string, accessId: string, body: string): string {
  const hex = createHmac('sha256', secretKey).update(timestamp + accessId + body).digest('hex');
  return Buffer.from(hex, 'utf8').toString('base64');
}

/** Older scheme: `Authorization: Basic base64(AccessId:SecretKey)`. */
export function basicAuthorization(accessId: string, secretKey: string): string {
  return `Basic ${Buffer.from(`${accessId}:${secretKey}`, 'utf8').toString('base64')}`;
}

/** The auth headers of one request with `body`, signed at `nowMs`. */
export function authHeaders(mode: AuthMode, app: AppCredentials, body: string, nowMs: number): Record<string, string> {
  if (mode === 'basic') return { Authorization: basicAuthorization(app.accessId, app.secretKey) };
  const timestamp = String(Math.floor(nowMs / 1000));
  return { AccessId: app.accessId, TimeStamp: timestamp, Sign: signRequest(app.secretKey, timestamp, app.accessId, body) };
}
