/**
 * Input validation before any network call: TPNS's own rules, so the client never sends
 * something TPNS would reject. A bad item is reported with its index and field, and nothing of
 * the whole input is sent. The HTTP layer imports these very schemas so the rules match.
 */
import * as z from 'zod/mini';
import { MAX_ACCOUNT_LENGTH, MAX_TOKEN_LENGTH, MIN_ACCOUNT_LENGTH } from './constants.js';
import { TpnsValidationError, type ValidationIssue } from './errors.js';
import type { Platform } from './types.js';

/** Printable ASCII without spaces (0x21-0x7E), 1-64 characters. */
export const tokenSchema = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(MAX_TOKEN_LENGTH, `must be at most ${MAX_TOKEN_LENGTH} characters`),
  z.regex(/^[\x21-\x7E]*$/, 'must be printable ASCII without spaces'),
);

/** 2-100 characters, no control characters. */
export const accountSchema = z.string().check(
  z.minLength(MIN_ACCOUNT_LENGTH, `must be at least ${MIN_ACCOUNT_LENGTH} characters`),
  z.maxLength(MAX_ACCOUNT_LENGTH, `must be at most ${MAX_ACCOUNT_LENGTH} characters`),
  z.regex(/^\P{Cc}*$/u, 'must not contain control characters'),
);

/** TPNS `account_type`: a non-negative integer (0 default, 1-16 custom, 1002 phone, ...). */
export const accountTypeSchema = z.int('must be an integer').check(z.nonnegative('must not be negative'));

export const platformSchema = z.enum(['android', 'ios'], 'must be "android" or "ios"');

export const accountRefSchema = z.object({ account: accountSchema, accountType: z.optional(accountTypeSchema) });
export const bindingSchema = z.object({ token: tokenSchema, ...accountRefSchema.shape });
export const tokenAccountsSchema = z.object({
  token: tokenSchema,
  accounts: z.array(accountRefSchema).check(z.minLength(1, 'must list at least one account')),
});

/** Throws TpnsValidationError unless `platform` is one TPNS knows. */
export function validatePlatform(platform: unknown): Platform {
  const parsed = platformSchema.safeParse(platform);
  if (!parsed.success) throw new TpnsValidationError([{ path: 'platform', message: 'must be "android" or "ios"' }]);
  return parsed.data;
}

/**
 * Every item of `items` against `schema`; throws one TpnsValidationError listing every bad item.
 * `itemName` names items that are plain values (a token), whose issues have no field path.
 */
export function validateItems<T>(schema: z.ZodMiniType<T>, items: unknown, itemName: string): T[] {
  if (!Array.isArray(items)) throw new TpnsValidationError([{ path: itemName, message: 'must be an array' }]);
  const issues: ValidationIssue[] = [];
  const valid = items.flatMap((item, index) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) return [parsed.data];
    for (const issue of parsed.error.issues) {
      issues.push({ index, path: issue.path.map(String).join('.') || itemName, message: issue.message });
    }
    return [];
  });
  if (issues.length > 0) throw new TpnsValidationError(issues);
  return valid;
}
