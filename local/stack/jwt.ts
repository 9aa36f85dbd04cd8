/**
 * The local stack's identity provider: a DEVELOPMENT-ONLY signing key, and the checks API
 * Gateway's JWT authorizer makes (signature, issuer, audience, expiry).
 *
 * The key is a constant on purpose: `npm run token` and a running `npm start` are separate
 * processes that must agree without sharing anything. It guards nothing but loopback ports;
 * deployed, the authorizer verifies your real IdP's tokens against its JWKS (serverless.yml
 * `jwtIssuer` / `jwtAudience`), and this file is never bundled.
 *
 * Why hand-written: serverless-offline only decodes JWTs; the verification itself is jose's (docs/architecture.md, "Why local/ is hand-written").
 */
import { errors, jwtVerify, SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import { DEFAULT_ACCOUNT_CLAIM, DEFAULT_ADMIN_SCOPE } from '../../lib/config/config.js';

/** Dev-only HS256 secret (exported for tests that forge bad claims). Never use it outside loopback. */
export const DEV_SIGNING_SECRET = new TextEncoder().encode('tpns-account-sync local stack, development only, not a secret');
export const DEV_ALGORITHM = 'HS256';

export const DEV_ISSUER = 'https://local-idp.tpns-account-sync.invalid/';
export const DEV_AUDIENCE = 'tpns-account-sync';
/** Long enough for a demo session, short enough that a pasted token does not live forever. */
export const DEFAULT_TOKEN_LIFETIME = '12h';

export interface DevTokenOptions {
  /** Adds the admin scope to the `scope` claim (space-separated, as OAuth 2 defines it). */
  admin?: boolean;
  /** jose time span (`'15m'`, `'2h'`) or seconds since the epoch; default 12 h. */
  expiresIn?: string | number;
  /** Claim that carries the account (ACCOUNT_CLAIM); `sub` is always set as well. */
  accountClaim?: string;
  /** Scope granted by `admin` (ADMIN_SCOPE). */
  adminScope?: string;
}

/** Signs a token the local authorizer accepts; the account goes into `sub` (and `accountClaim`). */
export async function signDevToken(account: string, options: DevTokenOptions = {}): Promise<string> {
  const accountClaim = options.accountClaim ?? DEFAULT_ACCOUNT_CLAIM;
  const claims: JWTPayload = { [accountClaim]: account };
  if (options.admin) claims.scope = options.adminScope ?? DEFAULT_ADMIN_SCOPE;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: DEV_ALGORITHM, typ: 'JWT' })
    .setSubject(account)
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? DEFAULT_TOKEN_LIFETIME)
    .sign(DEV_SIGNING_SECRET);
}

/** Why a token was refused; API Gateway answers 401 for every one of them. */
export class DevTokenRejectedError extends Error {
  override readonly name = 'DevTokenRejectedError';
}

/** Verifies signature, issuer, audience and expiry (`exp` required, as API Gateway requires it). */
export async function verifyDevToken(jwt: string): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(jwt, DEV_SIGNING_SECRET, {
      algorithms: [DEV_ALGORITHM],
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
      requiredClaims: ['exp'],
    });
    return payload;
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new DevTokenRejectedError(describeRejection(error));
    throw error;
  }
}

function describeRejection(error: errors.JOSEError): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `invalid ${error.claim} claim`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  return 'the token is malformed';
}
