/**
 * Amazon Cognito user pool "Post authentication" trigger. The app passes the device in the
 * sign-in call's ClientMetadata (`pushToken`, `pushPlatform`); without both there is nothing to
 * bind. Cognito waits for this Lambda (5 s at most) and fails the sign-in if it throws, so the
 * handler must always hand the event back.
 */
import * as z from 'zod/mini';
import { accountSchema, platformSchema, tokenSchema } from '../tpns/validate.js';
import type { Platform } from '../tpns/types.js';
import { parseOrThrow } from './issues.js';

export const COGNITO_POST_AUTH_SOURCE = 'PostAuthentication_Authentication';
export const COGNITO_POST_AUTH_EXPECTED = 'an Amazon Cognito Post authentication trigger';

const stringMap = z.record(z.string(), z.string());

export const cognitoPostAuthEventSchema = z.looseObject({
  triggerSource: z.literal(COGNITO_POST_AUTH_SOURCE),
  userPoolId: z.string(),
  userName: z.string(),
  request: z.looseObject({
    userAttributes: stringMap,
    clientMetadata: z.optional(z.nullable(stringMap)),
  }),
});

const deviceSchema = z.object({ pushToken: tokenSchema, pushPlatform: platformSchema });

export interface CognitoSignInTrigger {
  kind: 'cognito.post-authentication';
  account: string;
  /** Present only when the sign-in passed both pushToken and pushPlatform. */
  device?: { token: string; platform: Platform };
}

/** The account is the `accountClaim` user attribute (default `sub`, as in the pool's JWTs), else the user name. */
export function matchCognitoPostAuth(event: unknown, accountClaim: string): CognitoSignInTrigger | undefined {
  const parsed = cognitoPostAuthEventSchema.safeParse(event);
  if (!parsed.success) return undefined;
  const { userName, request } = parsed.data;
  const what = 'Cognito Post authentication trigger';
  const account = parseOrThrow(accountSchema, request.userAttributes[accountClaim] ?? userName, what, 'account');
  const metadata = request.clientMetadata ?? {};
  if (metadata.pushToken === undefined || metadata.pushPlatform === undefined) return { kind: 'cognito.post-authentication', account };
  const device = parseOrThrow(deviceSchema, metadata, what, 'request.clientMetadata');
  return { kind: 'cognito.post-authentication', account, device: { token: device.pushToken, platform: device.pushPlatform } };
}

/** Any Cognito user pool trigger, even one this code cannot parse: it must get its event back. */
export function isCognitoTrigger(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'triggerSource' in event && 'userPoolId' in event;
}
