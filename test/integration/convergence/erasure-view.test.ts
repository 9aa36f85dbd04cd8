/**
 * erasureView (lib/convergence/erasures.ts) on dynalite behind its fault proxy: the tombstone and
 * the account's index are read side by side, then the indexed tokens' records; a view missing
 * either read is no view, and nothing is decided or sent from it. An attempt's `appliedAt` marks
 * go to the ledger side by side.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { erasureView, pushErasures } from '../../../lib/convergence/erasures.js';
import { LedgerUnavailableError } from '../../../lib/ledger/records.js';
import type { DynamoOperation } from '../../../local/dynamodb/fault-proxy.js';
import { freshName } from '../../support/stack.js';
import { startWorkerHarness } from '../worker/harness.js';
import type { WorkerHarness } from '../worker/harness.js';

let h: WorkerHarness;
beforeAll(async () => {
  h = await startWorkerHarness();
});
afterAll(() => h.close());
beforeEach(() => h.stack.reset());

/** An account signed in on two tokens, then deleted: its tombstone, two index items, two token records. */
async function deleted() {
  const ref = { account: freshName('view') };
  const keys = [freshName('tok-view-a'), freshName('tok-view-b')].map((token) => ({ platform: 'android' as const, token }));
  for (const key of keys) {
    await h.runtime.ledger.indexAccount([{ key, ref }]);
    await h.runtime.ledger.recordSignIn(key, ref, { claim: false });
  }
  const tombstone = await h.runtime.ledger.recordDeletion(ref, ['android', 'ios']);
  return { ref, keys, tombstone };
}

describe('erasureView', () => {
  it('reads the tombstone and the index side by side (both requests held at once), then the tokens', async () => {
    const { ref, keys, tombstone } = await deleted();
    // Each read held 300 ms before dynalite serves it: one after the other, never two held at once.
    h.stack.dynamo.faults.add({ kind: 'latency', latencyMs: 300, operation: 'GetItem' });
    h.stack.dynamo.faults.add({ kind: 'latency', latencyMs: 300, operation: 'Query' });
    h.stack.dynamo.faults.resetCounters();
    const view = await erasureView(h.runtime, ref);
    expect(h.stack.dynamo.faults.requests()).toEqual({ GetItem: 1, Query: 1, BatchGetItem: 1 });
    expect(h.stack.dynamo.faults.peakInFlight()).toBe(2);
    expect(view?.tombstone.v).toBe(tombstone.v);
    expect(view?.keys.map(({ token }) => token).sort()).toEqual(keys.map(({ token }) => token).sort());
    expect(view?.records.map((record) => record.entries.map(({ account }) => account))).toEqual([[ref.account], [ref.account]]);
  });

  it.each<{ read: string; failing: DynamoOperation; slow: DynamoOperation }>([
    { read: 'tombstone', failing: 'GetItem', slow: 'Query' },
    { read: 'index', failing: 'Query', slow: 'GetItem' },
  ])('fails when the $read read ($failing) fails while the other ($slow) is in flight, and an erasure push decides and sends nothing', async ({ failing, slow }) => {
    const { ref } = await deleted();
    // Every SDK attempt of the failing read, while the other one is held: half a view is at hand.
    const attempts = await new DynamoDBClient({}).config.maxAttempts();
    h.stack.dynamo.faults.add({ kind: 'latency', latencyMs: 300, operation: slow });
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: failing, count: attempts });
    await expect(erasureView(h.runtime, ref)).rejects.toBeInstanceOf(LedgerUnavailableError);
    h.stack.dynamo.faults.add({ kind: 'InternalServerError', operation: failing, count: attempts });
    await expect(pushErasures(h.runtime, [ref], { budgetMs: 0 })).rejects.toBeInstanceOf(LedgerUnavailableError);
    expect(h.stack.tpns.requests()).toEqual([]);
    expect(h.stack.dynamo.faults.requests().BatchGetItem).toBeUndefined(); // the tokens were never read
  });
});

describe('pushErasures', () => {
  it("marks every app each account's op 5 was applied on side by side (all the marks held at once), not one after another", async () => {
    // Deleted without a sign-in: no entry to forget, so the push's only writes are its marks.
    const refs = Array.from({ length: 3 }, () => ({ account: freshName('marks') }));
    for (const ref of refs) await h.runtime.ledger.recordDeletion(ref, ['android', 'ios']);
    h.stack.dynamo.faults.add({ kind: 'latency', latencyMs: 200, operation: 'UpdateItem' });
    h.stack.dynamo.faults.resetCounters();
    const results = await pushErasures(h.runtime, refs, { budgetMs: 0 });
    expect([...results.values()]).toEqual(refs.map(() => ({ status: 'applied' })));
    expect(h.stack.dynamo.faults.requests().UpdateItem).toBe(2 * refs.length);
    expect(h.stack.dynamo.faults.peakInFlight('UpdateItem')).toBe(2 * refs.length);
    for (const ref of refs) {
      const tombstone = await h.runtime.ledger.getTombstone(ref);
      expect(tombstone?.apps.android?.appliedAt, ref.account).toBeDefined();
      expect(tombstone?.apps.ios?.appliedAt, ref.account).toBeDefined();
    }
  });
});
