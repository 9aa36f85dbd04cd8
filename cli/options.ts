/**
 * Argument parsers shared by the commands. Values are checked with the client's own item
 * schemas, so the CLI refuses exactly what TPNS would refuse, before any network call.
 */
import { InvalidArgumentError, Option } from 'commander';
import type { ZodMiniType } from 'zod/mini';
import { accountSchema, accountTypeSchema, tokenSchema } from '../lib/tpns/validate.js';
import { PLATFORMS } from '../lib/tpns/types.js';

function parseWith<T>(schema: ZodMiniType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues.map((issue) => issue.message).join('; '));
  return parsed.data;
}

/** Integers only: `--type 1.5` or `--type x` is a usage error, not a silent 0. */
function toInteger(value: string): number | string {
  return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
}

export const parseToken = (value: string): string => parseWith(tokenSchema, value);
export const parseAccount = (value: string): string => parseWith(accountSchema, value);
export const parseAccountType = (value: string): number => parseWith(accountTypeSchema, toInteger(value));

export function parsePositiveInt(value: string): number {
  const parsed = toInteger(value);
  if (typeof parsed !== 'number' || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

export const platformOption = (): Option =>
  new Option('--platform <platform>', 'the app the token belongs to').choices(PLATFORMS).makeOptionMandatory();

export const accountTypeOption = (): Option =>
  new Option('--type <n>', 'TPNS account_type (0 default, 1002 phone, 1005 e-mail, ...)').argParser(parseAccountType);

export const jsonOption = (): Option => new Option('--json', 'print machine-readable JSON instead of a table');
