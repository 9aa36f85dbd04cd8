/** The worker applies a round's Android and iOS operations concurrently, each platform's kinds in order. */
import { describe, expect, it } from 'vitest';
import { planWork } from '../../../lib/queue/plan.js';
import type { WorkInput } from '../../../lib/queue/plan.js';
import type { Binding, Platform } from '../../../lib/tpns/types.js';
import { processWorkBatch } from '../../../lib/worker/index.js';
import { FakeTpns } from './fake-tpns.js';
import { recordOf } from './records.js';

/** Counts the operations in flight at once; each one yields to the event loop before answering. */
class OverlapTpns extends FakeTpns {
  inFlight = 0;
  peak = 0;
  readonly finished: string[] = [];

  async #overlapping<T>(label: string, run: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    this.peak = Math.max(this.peak, this.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight -= 1;
    this.finished.push(label);
    return run();
  }

  override bind(platform: Platform, bindings: Binding[]) {
    return this.#overlapping(`bind/${platform}`, () => super.bind(platform, bindings));
  }

  override unbindTokens(platform: Platform, tokens: string[]) {
    return this.#overlapping(`unbind/${platform}`, () => super.unbindTokens(platform, tokens));
  }
}

const record = (input: WorkInput) => recordOf(planWork(input, { correlationId: 'c-parallel' })[0]!);
const run = (tpns: OverlapTpns, inputs: WorkInput[]) =>
  processWorkBatch({ Records: inputs.map(record) }, { tpns, deadLetters: undefined, retryBudgetMs: 1_000 });

describe('platforms in parallel', () => {
  it('applies the Android and the iOS sign-ins of a batch at the same time', async () => {
    const tpns = new OverlapTpns();
    const response = await run(tpns, [
      { kind: 'bind', platform: 'android', items: [{ token: 'a1', account: 'user-1' }] },
      { kind: 'bind', platform: 'ios', items: [{ token: 'i1', account: 'user-2' }] },
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(tpns.peak).toBe(2);
    expect(tpns.bound).toEqual(new Map([['android:a1', 'user-1'], ['ios:i1', 'user-2']]));
  });

  it('keeps one platform\'s operations one after another', async () => {
    const tpns = new OverlapTpns();
    await run(tpns, [
      { kind: 'bind', platform: 'android', items: [{ token: 'a1', account: 'user-1' }] },
      { kind: 'unbind-tokens', platform: 'android', tokens: ['a2'] },
    ]);
    expect(tpns.peak).toBe(1);
    expect(tpns.finished).toEqual(['bind/android', 'unbind/android']);
  });
});
