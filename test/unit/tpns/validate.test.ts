import { describe, expect, it } from 'vitest';
import { TpnsValidationError } from '../../../lib/tpns/errors.js';
import {
  accountSchema,
  accountTypeSchema,
  bindingSchema,
  platformSchema,
  tokenSchema,
  validateItems,
  validatePlatform,
} from '../../../lib/tpns/validate.js';

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

describe('tokenSchema', () => {
  it('accepts printable ASCII up to 64 characters', () => {
    expect(ok(tokenSchema, 'a')).toBe(true);
    expect(ok(tokenSchema, '0f3a9c_-:+/=!~')).toBe(true);
    expect(ok(tokenSchema, 'x'.repeat(64))).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'x'.repeat(65)],
    ['a space', 'ab cd'],
    ['a tab', 'ab\tcd'],
    ['non-ASCII', 'tokén'],
    ['DEL', 'ab\x7f'],
    ['not a string', 42],
  ])('refuses %s', (_name, value) => {
    expect(ok(tokenSchema, value)).toBe(false);
  });
});

describe('accountSchema', () => {
  it('accepts 2-100 characters, including non-ASCII and spaces', () => {
    expect(ok(accountSchema, 'ab')).toBe(true);
    expect(ok(accountSchema, '王小明')).toBe(true);
    expect(ok(accountSchema, 'Jane Doe')).toBe(true);
    expect(ok(accountSchema, 'a'.repeat(100))).toBe(true);
  });

  it.each([
    ['one character', 'a'],
    ['101 characters', 'a'.repeat(101)],
    ['a newline', 'ab\ncd'],
    ['a NUL', 'ab\u0000'],
    ['a C1 control', 'ab\u0085'],
  ])('refuses %s', (_name, value) => {
    expect(ok(accountSchema, value)).toBe(false);
  });
});

describe('accountTypeSchema and platformSchema', () => {
  it('account_type is a non-negative integer', () => {
    expect([0, 1, 1002].map((v) => ok(accountTypeSchema, v))).toEqual([true, true, true]);
    expect([-1, 1.5, '1', Number.NaN].map((v) => ok(accountTypeSchema, v))).toEqual([false, false, false, false]);
  });

  it('platform is android or ios', () => {
    expect(['android', 'ios'].map((v) => ok(platformSchema, v))).toEqual([true, true]);
    expect(['Android', 'iOS', 'web', ''].map((v) => ok(platformSchema, v))).toEqual([false, false, false, false]);
    expect(() => validatePlatform('web')).toThrow(TpnsValidationError);
  });
});

describe('validateItems', () => {
  it('reports every bad item with its index and field', () => {
    const input = [
      { token: 'good-token', account: 'alice' },
      { token: 'bad token', account: 'bob' },
      { token: 'ok', account: 'c' },
      { token: 'ok2', account: 'dave', accountType: -1 },
    ];
    const error = catchError(() => validateItems(bindingSchema, input, 'bindings'));
    expect(error).toBeInstanceOf(TpnsValidationError);
    expect(error.issues.map(({ index, path }) => [index, path])).toEqual([
      [1, 'token'],
      [2, 'account'],
      [3, 'accountType'],
    ]);
    expect(error.message).toContain('[1].token');
  });

  it('names plain items by the list they are in, and refuses a non-array', () => {
    const error = catchError(() => validateItems(tokenSchema, ['ok', ''], 'tokens'));
    expect(error.issues).toEqual([{ index: 1, path: 'tokens', message: 'must not be empty' }]);
    expect(catchError(() => validateItems(tokenSchema, 'ok', 'tokens')).issues).toEqual([{ path: 'tokens', message: 'must be an array' }]);
  });

  it('never echoes the bad value (tokens are personal data)', () => {
    const error = catchError(() => validateItems(tokenSchema, ['secret token value'], 'tokens'));
    expect(error.message).not.toContain('secret token value');
  });
});

function catchError(fn: () => unknown): TpnsValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TpnsValidationError) return error;
    throw error;
  }
  throw new Error('expected a TpnsValidationError');
}
