/**
 * Versions: microseconds since the epoch on this container's clock, strictly increasing within the
 * process, and never below a floor the caller read from the ledger (the stored version of the
 * item, the tombstone of the account). Lambda's clock is kept by the Amazon Time Sync Service;
 * docs/reliability.md ("Versions") says what ordering rests on that and what does not.
 */
let last = 0;

export function nextVersion(floor = 0): number {
  last = Math.max(Date.now() * 1000, last + 1, Math.floor(floor) + 1);
  return last;
}
