import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsDeadLetterQueue } from '../../../lib/queue/sqs-dead-letter-queue.js';
import { planWork } from '../../../lib/queue/index.js';
import { TpnsClient, tpnsClientOptionsFromEnv } from '../../../lib/tpns/index.js';
import type { TpnsAccountApi } from '../../../lib/tpns/index.js';
import { parseSqsEvent, processWorkBatch } from '../../../lib/worker/index.js';
import { startWorkerHarness } from './harness.js';
import type { WorkerHarness } from './harness.js';

let h: WorkerHarness;
beforeAll(async () => {
  h = await startWorkerHarness();
});
afterAll(async () => h.close());

class SimulatedCrash extends Error {}

describe('redelivery after a worker crash mid-batch', () => {
  it('re-applies the whole batch harmlessly: the final state is what was queued', async () => {
    const tpns = new TpnsClient(tpnsClientOptionsFromEnv(h.emulator.env));
    const signedOut = Array.from({ length: 5 }, (_, i) => ({ token: `old-${i}`, account: `gone-${i}` }));
    await tpns.bind('android', signedOut);
    const signedIn = Array.from({ length: 5 }, (_, i) => ({ token: `new-${i}`, account: `user-${i}` }));
    await h.queue.enqueue([
      ...signedIn.flatMap((binding, i) => planWork({ kind: 'bind', platform: 'android', items: [binding] }, { correlationId: `in-${i}` })),
      ...signedOut.flatMap(({ token }, i) => planWork({ kind: 'unbind-tokens', platform: 'android', tokens: [token] }, { correlationId: `out-${i}` })),
    ]);

    // First invocation: the bind call goes through, then the process dies before the unbind call.
    let operations = 0;
    let crashes = 0;
    const crashing = new Proxy(tpns, {
      get(target, property) {
        if (property === 'unbindTokens') {
          return async () => {
            operations += 1;
            crashes += 1;
            throw new SimulatedCrash('worker died mid-batch');
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as TpnsAccountApi;
    const deadLetters = new SqsDeadLetterQueue({ queueUrl: h.sqs.dlqUrl, endpoint: h.sqs.endpoint, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    const source = h.feed(
      async (event) =>
        processWorkBatch(parseSqsEvent(event), { tpns: crashes === 0 ? crashing : tpns, deadLetters, retryBudgetMs: 0 }),
      { concurrency: 1 },
    );
    await source.drained();

    expect(crashes).toBe(1);
    expect(operations).toBe(1);
    expect(source.stats()).toMatchObject({ batches: 2, handlerErrors: 1, received: 20, deleted: 10 });
    const binds = h.emulator.requests().filter((r) => r.operatorType === 2);
    // The initial bind of the old tokens, the crashed invocation's bind, and the redelivered one.
    expect(binds).toHaveLength(3);
    for (const { token, account } of signedIn) expect(h.emulator.accountsOf('android', token).map((a) => a.account)).toEqual([account]);
    for (const { token } of signedOut) expect(h.emulator.accountsOf('android', token)).toEqual([]);
  });
});
