import { describe, expect, it } from 'vitest';
import { ChunkDispatcher } from '../../cli/chunk-dispatcher.js';
import type { Platform } from '../../lib/tpns/types.js';

interface Item {
  platform: Platform;
  token: string;
}

/** A sender whose chunks finish only when the test says so. */
function controlledSender() {
  const sent: { platform: Platform; tokens: string[]; finish: () => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = (platform: Platform, items: Item[]) =>
    new Promise<void>((resolve) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      sent.push({
        platform,
        tokens: items.map((item) => item.token),
        finish: () => {
          inFlight -= 1;
          resolve();
        },
      });
    });
  return { send, sent, maxInFlight: () => maxInFlight };
}

const flushMicrotasks = () => new Promise((resolve) => setImmediate(resolve));

describe('ChunkDispatcher', () => {
  it('groups items per platform into chunks and never has more than `concurrency` in flight', async () => {
    const sender = controlledSender();
    const dispatcher = new ChunkDispatcher<Item>(sender.send, { concurrency: 2, chunkSize: 2 });
    let done = false;
    const adding = (async () => {
      for (let index = 0; index < 10; index += 1) await dispatcher.add({ platform: index % 2 ? 'ios' : 'android', token: `t${index}` });
      await dispatcher.flush();
      done = true;
    })();
    let finished = 0;
    while (!done) {
      await flushMicrotasks();
      for (const chunk of sender.sent.slice(finished)) chunk.finish();
      finished = sender.sent.length;
    }
    await adding;
    expect(sender.maxInFlight()).toBe(2);
    expect(sender.sent.map((chunk) => [chunk.platform, chunk.tokens])).toEqual([
      ['android', ['t0', 't2']],
      ['ios', ['t1', 't3']],
      ['android', ['t4', 't6']],
      ['ios', ['t5', 't7']],
      ['android', ['t8']],
      ['ios', ['t9']],
    ]);
  });

  it('holds back a chunk whose token is still in flight in an earlier chunk (orderKey)', async () => {
    const sender = controlledSender();
    const dispatcher = new ChunkDispatcher<Item>(sender.send, { concurrency: 4, chunkSize: 2, orderKey: (item) => item.token });
    for (const token of ['a', 'b', 'c', 'd', 'a', 'e']) await dispatcher.add({ platform: 'android', token });
    const flushing = dispatcher.flush();
    await flushMicrotasks();
    expect(sender.sent.map((chunk) => chunk.tokens)).toEqual([['a', 'b'], ['c', 'd']]); // ['a','e'] waits for ['a','b']
    sender.sent[1]!.finish();
    await flushMicrotasks();
    expect(sender.sent).toHaveLength(2);
    sender.sent[0]!.finish();
    await flushMicrotasks();
    expect(sender.sent.map((chunk) => chunk.tokens)).toEqual([['a', 'b'], ['c', 'd'], ['a', 'e']]);
    sender.sent[2]!.finish();
    await flushing;
  });

  it('stops taking items once a chunk failed, and reports that error', async () => {
    const dispatcher = new ChunkDispatcher<Item>(() => Promise.reject(new Error('credentials refused')), { concurrency: 1, chunkSize: 1 });
    await dispatcher.add({ platform: 'ios', token: 't1' });
    await expect(dispatcher.add({ platform: 'ios', token: 't2' })).rejects.toThrow('credentials refused');
  });
});
