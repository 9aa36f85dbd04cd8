/**
 * An erased account, sealed while its erasure is unsettled. The tombstone is keyed by an HMAC, so
 * the ledger cannot name the account, but op 5 needs the account itself: a deletion whose queued
 * work was lost (the queue refused it after the tombstone was written) could never be pushed
 * again. The sweep opens the seal to queue that work; once the erasure is verified on every app
 * (or dead-lettered) the seal is removed, and only the HMAC is left.
 *
 * AES-256-GCM under a key derived from ERASURE_KEY (HKDF), the tombstone's digest as associated
 * data: a seal copied onto another tombstone does not open.
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { AccountRef } from '../tpns/types.js';

const KEY_INFO = 'tpns-account-sync/sealed-account/v1';
/** GCM's recommended nonce and its full tag. */
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealBrokenError extends Error {
  override readonly name = 'SealBrokenError';
}

export class AccountSeal {
  // A KeyObject, not a Buffer: Node 24 spends ~30 µs checking a Buffer key on every cipher, ~4 µs a KeyObject.
  readonly #key: KeyObject;

  constructor(erasureKey: string) {
    this.#key = createSecretKey(Buffer.from(hkdfSync('sha256', erasureKey, '', KEY_INFO, 32)));
  }

  /** `digest`: the tombstone's key, bound into the seal. */
  seal(ref: AccountRef, digest: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(digest));
    const sealed = Buffer.concat([cipher.update(JSON.stringify([ref.accountType ?? 0, ref.account]), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /** Throws SealBrokenError if the seal was altered, belongs to another tombstone or another key. */
  open(sealed: string, digest: string): AccountRef {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length <= IV_BYTES + TAG_BYTES) throw new SealBrokenError('the sealed account is too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES }).setAAD(Buffer.from(digest));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      const [accountType, account] = JSON.parse(plain) as [number, string];
      return accountType === 0 ? { account } : { account, accountType };
    } catch (error) {
      throw new SealBrokenError('the sealed account does not open with this key and tombstone', { cause: error });
    }
  }

  /** The account, or undefined when the seal does not open (see open). */
  tryOpen(sealed: string, digest: string): AccountRef | undefined {
    try {
      return this.open(sealed, digest);
    } catch (error) {
      if (error instanceof SealBrokenError) return undefined;
      throw error;
    }
  }
}
