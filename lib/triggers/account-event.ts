/**
 * The product's own lifecycle events on EventBridge (`detail-type` `account.login`,
 * `account.logout`, `account.deleted`), published by the customer's auth system.
 */
import * as z from 'zod/mini';
import { accountSchema, accountTypeSchema, platformSchema, tokenSchema } from '../tpns/validate.js';
import { parseOrThrow } from './issues.js';

export const ACCOUNT_EVENT_TYPES = ['account.login', 'account.logout', 'account.deleted'] as const;
export type AccountEventType = (typeof ACCOUNT_EVENT_TYPES)[number];

export const accountEventExpected = (type: AccountEventType): string => `an EventBridge "${type}" event`;

const envelopeSchema = z.looseObject({
  id: z.string(),
  'detail-type': z.enum(ACCOUNT_EVENT_TYPES),
  source: z.string(),
  detail: z.looseObject({}),
});

const baseDetail = {
  account: accountSchema,
  accountType: z.optional(accountTypeSchema),
  occurredAt: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' }),
  eventId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
};
/** Sign-in and sign-out are about one device: the token and its platform are required. */
const deviceDetailSchema = z.object({ ...baseDetail, token: tokenSchema, platform: platformSchema });
const deletedDetailSchema = z.object({
  ...baseDetail,
  token: z.optional(tokenSchema),
  platform: z.optional(platformSchema),
});

export type DeviceEventDetail = z.infer<typeof deviceDetailSchema>;
export type DeletedEventDetail = z.infer<typeof deletedDetailSchema>;

export type AccountEventTrigger =
  | { kind: 'account.login' | 'account.logout'; correlationId: string; input: DeviceEventDetail }
  | { kind: 'account.deleted'; correlationId: string; input: DeletedEventDetail };

/** undefined when the event is not an `account.*` event of type `type`; throws when its detail is invalid. */
export function matchAccountEvent(event: unknown, type: AccountEventType): AccountEventTrigger | undefined {
  const envelope = envelopeSchema.safeParse(event);
  if (!envelope.success || envelope.data['detail-type'] !== type) return undefined;
  const { id, detail: rawDetail } = envelope.data;
  const what = `${type} event`;
  // The publisher's own id survives EventBridge retries and re-publishing; EventBridge's id does not.
  if (type === 'account.deleted') {
    const detail = parseOrThrow(deletedDetailSchema, rawDetail, what, 'detail');
    return { kind: type, correlationId: detail.eventId ?? id, input: detail };
  }
  const detail = parseOrThrow(deviceDetailSchema, rawDetail, what, 'detail');
  return { kind: type, correlationId: detail.eventId ?? id, input: detail };
}
