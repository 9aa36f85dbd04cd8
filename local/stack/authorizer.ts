/**
 * API Gateway's JWT authorizer, locally: the token from `Authorization` (with or without
 * `Bearer `), verified by `verify`; claims handed to the function the way API Gateway hands
 * them (every value flattened to a string, `scopes` null unless the route requires scopes).
 *
 * Why hand-written: serverless-offline only decodes JWTs; the verification itself is jose's (docs/architecture.md, "Why local/ is hand-written").
 */
import type { APIGatewayEventRequestContextJWTAuthorizer } from 'aws-lambda';
import type { JWTPayload } from 'jose';
import { DevTokenRejectedError } from './jwt.js';

export type JwtAuthorizerContext = APIGatewayEventRequestContextJWTAuthorizer['jwt'];

export type AuthorizerDecision =
  | { ok: true; jwt: JwtAuthorizerContext }
  | { ok: false; statusCode: 401 | 403; message: 'Unauthorized' | 'Forbidden'; wwwAuthenticate?: string };

export type VerifyToken = (jwt: string) => Promise<JWTPayload>;

const BEARER_PREFIX = /^Bearer\s+/i;

/**
 * @param authorization the `Authorization` header (the authorizer's identity source)
 * @param requiredScopes the route's `authorizationScopes`: the token needs one of them
 */
export async function authorizeJwt(
  authorization: string | undefined,
  verify: VerifyToken,
  requiredScopes: readonly string[] = [],
): Promise<AuthorizerDecision> {
  const token = authorization?.replace(BEARER_PREFIX, '').trim();
  if (!token) return { ok: false, statusCode: 401, message: 'Unauthorized' };

  let payload: JWTPayload;
  try {
    payload = await verify(token);
  } catch (error) {
    if (!(error instanceof DevTokenRejectedError)) throw error;
    return {
      ok: false,
      statusCode: 401,
      message: 'Unauthorized',
      wwwAuthenticate: `Bearer scope="" error="invalid_token" error_description="${error.message}"`,
    };
  }

  const tokenScopes = scopesOf(payload);
  if (requiredScopes.length > 0 && !requiredScopes.some((scope) => tokenScopes.includes(scope))) {
    return { ok: false, statusCode: 403, message: 'Forbidden' };
  }
  return {
    ok: true,
    jwt: { claims: flattenClaims(payload), scopes: requiredScopes.length > 0 ? tokenScopes : null },
  };
}

/** OAuth 2 `scope` (space-separated) or Okta/Azure-style `scp` (array or string). */
function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (Array.isArray(raw)) return raw.map(String);
  return typeof raw === 'string' ? raw.split(' ').filter(Boolean) : [];
}

/** API Gateway delivers every claim as a string: numbers as digits, arrays as `[a b]`. */
function flattenClaims(payload: JWTPayload): Record<string, string> {
  return Object.fromEntries(
    Object.entries(payload).map(([name, value]) => {
      if (typeof value === 'string') return [name, value];
      if (Array.isArray(value)) return [name, `[${value.map(String).join(' ')}]`];
      if (value !== null && typeof value === 'object') return [name, JSON.stringify(value)];
      return [name, String(value)];
    }),
  );
}
