/**
 * What the intent ledger holds, as the rest of the product sees it (the DynamoDB item layout is
 * private to dynamo-ledger.ts). Types first: the convergence rule (lib/convergence/rule.ts) and
 * the readers are written against these.
 */
import type { AccountRef, Platform } from '../tpns/types.js';

/** One device token on one TPNS app: the unit a sign-in, a sign-out and a reconcile act on. */
export interface TokenKey {
  platform: Platform;
  token: string;
}

/**
 * A version orders operations (docs/reliability.md, "Versions"): microseconds of acceptance
 * time on the accepting container's clock, raised above every version already stored on the
 * same item (conditional writes) and above the tombstone of the account being bound.
 */
export type Version = number;

/** The desired account of one account type on a token, and the operation that set it. */
export interface IntentEntry {
  account: string;
  accountType: number;
  v: Version;
  /** ISO-8601 acceptance time of the sign-in. */
  since: string;
}

/** How far TPNS has come with the key's current intent. */
export type DeviceState = 'pending' | 'applied' | 'verified' | 'drift';

export interface Lease {
  /** Epoch milliseconds after which the lease is free again (its holder crashed or stalled). */
  until: number;
  /** Random id of the holder: only it may release. */
  by: string;
}

/** A token's intent: its entries by account type, the last sign-out, and the push state. */
export interface TokenRecord extends TokenKey {
  /** The highest version of any operation recorded on this token. */
  v: Version;
  /** Version of the last sign-out (everything older on the token is void). */
  clearV?: Version;
  entries: IntentEntry[];
  state: DeviceState;
  /** The version `state` is about: the state of an older push says nothing about a newer intent. */
  stateV: Version;
  stateAt: string;
  lease?: Lease;
  /** Verifications that found TPNS different, since the last one that found it equal. */
  attempts: number;
}

export interface ErasureApp {
  /** When op 5 was accepted by this app. */
  appliedAt?: string;
  /** When a read-back found the account on none of this app's tokens (except newer sign-ins). */
  verifiedAt?: string;
}

/** An account deletion. Keyed by an HMAC of the account: the ledger keeps no plaintext of it. */
export interface Tombstone {
  /** The HMAC digest that keys it. */
  digest: string;
  v: Version;
  requestedAt: string;
  apps: Partial<Record<Platform, ErasureApp>>;
  /** Epoch seconds: DynamoDB TTL deletes the receipt after ERASURE_RETENTION_DAYS. */
  expiresAt: number;
}

export type ErasureState = 'pending' | 'applied' | 'verified';

/** A tombstone with the account it is about (known only to whoever asked with that account). */
export interface Erasure extends AccountRef {
  tombstone: Tombstone;
}

export const tokenKeyId = ({ platform, token }: TokenKey): string => `${platform}:${token}`;

/** DynamoDB could not durably record or read intent (throttled, 5xx, unreachable after the SDK's retries). Callers answer 503. Messages name the problem, never an account or a token. */
export class LedgerUnavailableError extends Error {
  override name = 'LedgerUnavailableError';
}

/**
 * The next version: microseconds since the epoch on this container's clock, strictly increasing
 * within the process, and never below a floor the caller read from the ledger (the stored version
 * of the item, the tombstone of the account). Lambda's clock is kept by the Amazon Time Sync
 * Service; docs/reliability.md ("Versions") says what ordering rests on that and what does not.
 */
let last = 0;

export function nextVersion(floor = 0): number {
  last = Math.max(Date.now() * 1000, last + 1, Math.floor(floor) + 1);
  return last;
}
