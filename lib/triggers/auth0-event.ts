/**
 * Auth0 log streaming to Amazon EventBridge: a partner event source named
 * `aws.partner/auth0.com/<stream>/auth0.logs`, one log entry per event in `detail.data`.
 * Log type `sdu` is "Successful user deletion"; `user_id` is the same id Auth0 puts in `sub`.
 */
import * as z from 'zod/mini';
import { accountSchema } from '../tpns/validate.js';
import { parseOrThrow } from './issues.js';

export const AUTH0_SOURCE_PREFIX = 'aws.partner/auth0.com';
export const AUTH0_DELETION_EXPECTED = 'an Auth0 log-stream event of type "sdu" (user deleted) through EventBridge';

const envelopeSchema = z.looseObject({
  id: z.string(),
  source: z.string().check(z.startsWith(AUTH0_SOURCE_PREFIX)),
  detail: z.looseObject({ data: z.looseObject({ type: z.literal('sdu') }) }),
});

const dataSchema = z.looseObject({ user_id: accountSchema, log_id: z.optional(z.string()) });

export interface Auth0DeletionTrigger {
  kind: 'auth0.sdu';
  correlationId: string;
  input: { account: string };
}

export function matchAuth0Deletion(event: unknown): Auth0DeletionTrigger | undefined {
  const envelope = envelopeSchema.safeParse(event);
  if (!envelope.success) return undefined;
  const data = parseOrThrow(dataSchema, envelope.data.detail.data, 'Auth0 sdu event', 'detail.data');
  return { kind: 'auth0.sdu', correlationId: data.log_id ?? envelope.data.id, input: { account: data.user_id } };
}
