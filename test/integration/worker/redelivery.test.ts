/**
 * Redelivery: SQS hands the worker the same messages again (a crash after the work was done, a
 * part that failed). Reconciling is idempotent: the end state is the ledger's, whatever came twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDevices } from '../../../lib/commands/list-devices.js';
import type { TpnsAccountApi } from '../../../lib/tpns/types.js';
import { parseSqsEvent } from '../../../lib/worker/key-record.js';
import { reconcileBatch } from '../../../lib/worker/reconcile-batch.js';
import type { SqsBatchHandler } from '../../../local/sqs/event-source.js';
import { deployedWorker, keyMessage, startWorkerHarness, tokenKey } from './harness.js';
import { batchCalls, tokensOf } from '../../support/tpns-calls.js';
import { sqsEvent, sqsRecord } from '../../support/sqs-records.js';
import type { WorkerHarness } from './harness.js';

let h: WorkerHarness;
beforeAll(async () => {
  h = await startWorkerHarness();
});
afterAll(async () => h.close());

class SimulatedCrash extends Error {}

const key = (token: string) => ({ platform: 'android' as const, token });

describe('redelivery', () => {
  it('after a worker crash that lost the batch\'s answer: reconciled again harmlessly, the end state is the ledger\'s', async () => {
    const signedOut = Array.from({ length: 5 }, (_, i) => ({ token: `old-${i}`, account: `gone-${i}` }));
    await h.runtime.tpns.bind('android', signedOut);
    const signedIn = Array.from({ length: 5 }, (_, i) => ({ token: `new-${i}`, account: `user-${i}` }));
    for (const { token, account } of signedIn) {
      await h.runtime.ledger.indexAccount([{ key: key(token), ref: { account } }]);
      await h.runtime.ledger.recordSignIn(key(token), { account }, { claim: false });
    }
    for (const { token } of signedOut) await h.runtime.ledger.recordSignOut(key(token), { claim: false });
    await h.send([...signedIn, ...signedOut].map(({ token }) => keyMessage('push', [tokenKey(token)])));

    // First invocation: everything is pushed, then the process dies before answering.
    let crashes = 0;
    const crashing: SqsBatchHandler = async (event, context) => {
      const answer = await deployedWorker(event, context);
      if (crashes === 0) {
        crashes += 1;
        throw new SimulatedCrash('worker died before answering');
      }
      return answer;
    };
    const source = h.feed(crashing, { concurrency: 1 });
    await source.drained();
    await h.stack.tpns.idle();

    expect(crashes).toBe(1);
    expect(source.stats()).toMatchObject({ handlerErrors: 1 });
    // The crashed invocation's push, and the redelivered one's (op 2 is an overwrite: harmless).
    expect(batchCalls(h.stack.tpns, 2).filter((call) => tokensOf(call).includes('new-0'))).toHaveLength(2);
    for (const { token, account } of signedIn) expect(h.stack.tpns.accountsOf('android', token).map((a) => a.account)).toEqual([account]);
    for (const { token } of signedOut) expect(h.stack.tpns.accountsOf('android', token)).toEqual([]);
    expect((await listDevices(h.runtime, { account: 'user-4' })).devices).toEqual([expect.objectContaining({ token: 'new-4', state: 'verified' })]);
    expect(await h.takeDeadLetters()).toEqual({ letters: [], redriven: [] });
  }, 20_000);

  it('a part that throws fails only the messages whose keys it held; delivered again, they are applied', async () => {
    const [bound, cleared] = ['part-bound', 'part-cleared'];
    await h.runtime.tpns.bind('android', [{ token: cleared, account: 'leaving' }]);
    await h.runtime.ledger.recordSignIn(key(bound), { account: 'staying' }, { claim: false });
    await h.runtime.ledger.recordSignOut(key(cleared), { claim: false });
    // The TPNS client's op 4 dies (a call-level error the client throws) on its first use.
    let unbindFailures = 0;
    const tpns = new Proxy(h.runtime.tpns, {
      get(target, property) {
        if (property === 'unbindTokens' && unbindFailures === 0) {
          return async () => {
            unbindFailures += 1;
            throw new SimulatedCrash('connection reset');
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as TpnsAccountApi;
    // Different attempts: different parts of the batch.
    const records = [sqsRecord(keyMessage('push', [tokenKey(bound)], 0)), sqsRecord(keyMessage('push', [tokenKey(cleared)], 1))];
    const first = await reconcileBatch(parseSqsEvent(sqsEvent(records)), { ...h.runtime, tpns });
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.messageId }]);
    expect(h.stack.tpns.accountsOf('android', bound)).toEqual([{ account: 'staying', accountType: 0 }]);
    expect(h.stack.tpns.accountsOf('android', cleared)).toEqual([{ account: 'leaving', accountType: 0 }]);

    // SQS delivers the failed one again; the lease was given back, so it goes through.
    const again = await reconcileBatch(parseSqsEvent(sqsEvent([records[1]!])), { ...h.runtime, tpns });
    expect(again.batchItemFailures).toEqual([]);
    expect(h.stack.tpns.accountsOf('android', cleared)).toEqual([]);
  });
});
