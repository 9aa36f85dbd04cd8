/** An account deletion's receipt: requested, applied on each app, verified empty by read-back. */
import type { ErasureApp, ErasureState } from '../ledger/records.js';
import type { Platform } from '../tpns/types.js';
import type { Convergence } from '../convergence/push.js';
import { accountRef } from './schemas.js';
import type { AccountRefInput } from './schemas.js';

export interface ErasureReceipt {
  account: string;
  requestedAt: string;
  state: ErasureState;
  apps: Partial<Record<Platform, ErasureApp>>;
}

/** undefined: no receipt (never deleted, or expired after ERASURE_RETENTION_DAYS). */
export async function erasureStatus(runtime: Convergence, input: AccountRefInput): Promise<ErasureReceipt | undefined> {
  const tombstone = await runtime.ledger.getTombstone(accountRef(input));
  if (!tombstone) return undefined;
  const apps = Object.values(tombstone.apps);
  const state: ErasureState =
    apps.length > 0 && apps.every((app) => app.verifiedAt) ? 'verified' : apps.length > 0 && apps.every((app) => app.appliedAt) ? 'applied' : 'pending';
  return { account: input.account, requestedAt: tombstone.requestedAt, state, apps: tombstone.apps };
}

/** The command's answer: 200 with the receipt, or 404 when there is none. */
export async function answerErasureStatus(runtime: Convergence, input: AccountRefInput) {
  const receipt = await erasureStatus(runtime, input);
  return receipt ? { status: 200, body: receipt } : { status: 404, body: { error: 'No erasure receipt for this account (never deleted, or expired)' } };
}
