/**
 * API Gateway HTTP API, payload format 2.0, behind a JWT authorizer: the authorizer has already
 * verified the token; its claims and scopes arrive in `requestContext.authorizer.jwt`.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod/mini';

export const HTTP_API_EXPECTED = 'an API Gateway HTTP API request (payload format 2.0)';

/**
 * Claims of any shape: API Gateway passes strings (arrays flattened to "[a b]"), local tools and
 * identity providers pass objects too (Cognito's `identities`, Auth0's namespaced claims). Only
 * the account claim and the scopes are read, and each is checked where it is read.
 */
const claimValue = z.unknown();
const stringMap = z.optional(z.nullable(z.record(z.string(), z.string())));

export const httpApiEventSchema = z.looseObject({
  version: z.literal('2.0'),
  routeKey: z.string(),
  rawPath: z.string(),
  headers: stringMap,
  queryStringParameters: stringMap,
  pathParameters: stringMap,
  body: z.optional(z.unknown()),
  isBase64Encoded: z.optional(z.boolean()),
  requestContext: z.looseObject({
    requestId: z.string(),
    http: z.looseObject({ method: z.string(), path: z.string() }),
    authorizer: z.optional(
      z.looseObject({
        jwt: z.optional(
          z.looseObject({
            claims: z.optional(z.record(z.string(), claimValue)),
            scopes: z.optional(z.nullable(z.array(z.string()))),
          }),
        ),
      }),
    ),
  }),
});

export type HttpApiEvent = z.infer<typeof httpApiEventSchema>;
export type JwtClaims = Record<string, z.infer<typeof claimValue>>;

export interface HttpTrigger {
  kind: 'http';
  correlationId: string;
  event: HttpApiEvent;
}

/** The Lambda type with the authorizer's part as checked here (claims of any shape). */
export type HttpApiRequest = APIGatewayProxyEventV2 & HttpApiEvent;

/** The dispatch's test: an API Gateway HTTP API v2 event (its shape checked once, not assumed). */
export function isHttpApiEvent(event: unknown): event is HttpApiRequest {
  return httpApiEventSchema.safeParse(event).success;
}

export function matchHttpApi(event: unknown): HttpTrigger | undefined {
  const parsed = httpApiEventSchema.safeParse(event);
  if (!parsed.success) return undefined;
  return { kind: 'http', correlationId: parsed.data.requestContext.requestId, event: parsed.data };
}

export function jwtClaims(event: HttpApiEvent): JwtClaims | undefined {
  return event.requestContext.authorizer?.jwt?.claims;
}

/**
 * Granted scopes: the authorizer's `scopes` list plus the `scope` (space-separated, RFC 8693)
 * and `scp` (list, Okta/Entra) claims, whichever the identity provider used.
 */
export function grantedScopes(event: HttpApiEvent): Set<string> {
  const claims = jwtClaims(event) ?? {};
  const scopes = [event.requestContext.authorizer?.jwt?.scopes ?? [], claims.scope, claims.scp].flatMap(scopeList);
  return new Set(scopes);
}

function scopeList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  if (typeof value !== 'string') return [];
  // "[a b]" is how API Gateway flattens an array claim.
  return value.replace(/^\[|\]$/g, '').split(/\s+/).filter(Boolean);
}
