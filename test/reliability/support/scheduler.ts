/**
 * Runs operations concurrently while keeping the order that makes the model's answer the right
 * one: an operation starts only when every earlier operation it conflicts with is finished,
 * i.e. answered AND nothing of it is pending any more (queued work applied or dead-lettered,
 * TPNS calls applied, even those the client gave up on).
 * Operations conflict when one holds exclusively a key (token or account) the other holds at
 * all; operations that do not conflict commute, so the final state is the model's.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Keys {
  /** Keys the operation changes in a way that does not commute (tokens it binds or unbinds, accounts it deletes). Its queued work names them. */
  exclusive: readonly string[];
  /** Keys it only adds to (an account bound to one more token): two such operations commute. */
  shared: readonly string[];
}

export interface PacedRun<T> {
  items: readonly T[];
  keysOf(item: T): Keys;
  run(item: T): Promise<void>;
  /** Keys of work still pending: queued (visible, delayed or in flight), or otherwise not yet applied. */
  pendingKeys(): Promise<Set<string>>;
  concurrency: number;
}

type Status = 'waiting' | 'running' | 'answered' | 'done';

/** In `pendingKeys`: something pending whose keys are not known yet, so nothing may finish now. */
export const ANY_KEY = '*';

/** How far ahead of the oldest unfinished operation to look for startable ones. */
const WINDOW = 1_000;
const POLL_MS = 25;

export async function runPaced<T>({ items, keysOf, run, pendingKeys, concurrency }: PacedRun<T>): Promise<void> {
  const entries = items.map((item) => ({ item, keys: keysOf(item), status: 'waiting' as Status, answeredAt: 0 }));
  let front = 0;
  let running = 0;
  let tick = 0;
  let failure: unknown;

  while (front < entries.length) {
    if (failure) throw failure;
    const snapshotTick = ++tick;
    const queued = await pendingKeys();
    for (let i = front; i < Math.min(entries.length, front + WINDOW) && !queued.has(ANY_KEY); i++) {
      const entry = entries[i]!;
      // Only a snapshot taken after the answer shows all of the work the answer reported queued.
      if (entry.status === 'answered' && entry.answeredAt < snapshotTick && !entry.keys.exclusive.some((key) => queued.has(key))) {
        entry.status = 'done';
      }
    }
    while (front < entries.length && entries[front]!.status === 'done') front++;

    const heldExclusive = new Set<string>();
    const held = new Set<string>();
    for (let i = front; i < Math.min(entries.length, front + WINDOW); i++) {
      const entry = entries[i]!;
      const { exclusive, shared } = entry.keys;
      const free = !exclusive.some((key) => held.has(key)) && !shared.some((key) => heldExclusive.has(key));
      if (entry.status === 'waiting' && running < concurrency && free) {
        entry.status = 'running';
        running += 1;
        run(entry.item).then(
          () => {
            entry.status = 'answered';
            entry.answeredAt = ++tick;
            running -= 1;
          },
          (error: unknown) => {
            failure = error;
          },
        );
      }
      if (entry.status === 'done') continue;
      for (const key of exclusive) {
        heldExclusive.add(key);
        held.add(key);
      }
      for (const key of shared) held.add(key);
    }
    await sleep(POLL_MS);
  }
}
