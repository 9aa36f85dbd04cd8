/** The sealed account of an unsettled tombstone (lib/ledger/sealed-account.ts): opens only with its key and on its own tombstone. */
import { describe, expect, it } from 'vitest';
import { AccountSeal, SealBrokenError } from '../../../lib/ledger/sealed-account.js';

const seal = new AccountSeal('erasure-key-for-tests');
const DIGEST = 'digest-of-the-account';

describe('AccountSeal', () => {
  it('opens to the account and its type, and shows neither', () => {
    for (const ref of [{ account: 'alice@example.com' }, { account: 'bob', accountType: 3 }]) {
      const sealed = seal.seal(ref, DIGEST);
      expect(sealed).not.toContain(ref.account);
      expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain(ref.account);
      expect(seal.open(sealed, DIGEST)).toEqual(ref);
    }
  });

  it('seals the same account differently each time (a fresh nonce)', () => {
    expect(seal.seal({ account: 'alice' }, DIGEST)).not.toBe(seal.seal({ account: 'alice' }, DIGEST));
  });

  it('does not open when altered, on another tombstone, or with another key', () => {
    const sealed = seal.seal({ account: 'alice' }, DIGEST);
    const bytes = Buffer.from(sealed, 'base64url');
    bytes[14] = (bytes[14] ?? 0) ^ 1;
    expect(() => seal.open(bytes.toString('base64url'), DIGEST)).toThrow(SealBrokenError);
    expect(() => seal.open(sealed, 'digest-of-someone-else')).toThrow(SealBrokenError);
    expect(() => new AccountSeal('another-key').open(sealed, DIGEST)).toThrow(SealBrokenError);
    expect(() => seal.open('c2hvcnQ', DIGEST)).toThrow(SealBrokenError);
    expect(seal.tryOpen(sealed, 'digest-of-someone-else')).toBeUndefined();
    expect(seal.tryOpen(sealed, DIGEST)).toEqual({ account: 'alice' });
  });
});
