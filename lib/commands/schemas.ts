/**
 * The commands' inputs. Boundaries (HTTP routes, events, CLI) parse with these schemas, built
 * from the TPNS client's own item rules, so nothing TPNS would reject gets past the boundary.
 */
import * as z from 'zod/mini';
import type { AccountRef } from '../tpns/types.js';
import { accountSchema, accountTypeSchema, platformSchema, tokenSchema } from '../tpns/validate.js';

/** The spec's bulk limit: large enough for a migration batch, small enough for one request. */
export const MAX_BULK_ITEMS = 10_000;

const bulk = <T extends z.ZodMiniType>(item: T) =>
  z.array(item).check(z.minLength(1, 'must not be empty'), z.maxLength(MAX_BULK_ITEMS, `must hold at most ${MAX_BULK_ITEMS} items`));

// Strict: a misspelt key (`acountType`) is refused by name rather than silently ignored.
export const accountRefInputSchema = z.strictObject({ account: accountSchema, accountType: z.optional(accountTypeSchema) });
export const deviceInputSchema = z.strictObject({ ...accountRefInputSchema.shape, token: tokenSchema, platform: platformSchema });
export const bulkBindInputSchema = z.strictObject({ items: bulk(deviceInputSchema) });
export const bulkUnbindTokensInputSchema = z.strictObject({ platform: platformSchema, tokens: bulk(tokenSchema) });
export const bulkDeleteAccountsInputSchema = z.strictObject({ accounts: bulk(accountRefInputSchema) });
/** Where an account's devices are read: the ledger (what was accepted; the default) or TPNS itself. */
export const deviceSourceSchema = z.enum(['ledger', 'tpns']);

export type AccountRefInput = z.infer<typeof accountRefInputSchema>;
/** One device of one account: sign-in and sign-out. */
export type DeviceInput = z.infer<typeof deviceInputSchema>;
export type BulkBindInput = z.infer<typeof bulkBindInputSchema>;
export type BulkUnbindTokensInput = z.infer<typeof bulkUnbindTokensInputSchema>;
export type BulkDeleteAccountsInput = z.infer<typeof bulkDeleteAccountsInputSchema>;
export type DeviceSource = z.infer<typeof deviceSourceSchema>;

/** The TPNS account reference of an input, without an `accountType` key when none was given. */
export const accountRef = ({ account, accountType }: AccountRefInput): AccountRef =>
  accountType === undefined ? { account } : { account, accountType };
