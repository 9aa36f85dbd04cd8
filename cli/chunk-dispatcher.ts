/**
 * Groups a stream of items into per-platform chunks and sends them with a bounded number of
 * chunks in flight. `add` waits while every slot is busy, so the file is read only as fast as
 * TPNS (or the queue) takes the work: memory stays bounded by concurrency x chunk size.
 *
 * Order (when an `orderKey` is given, e.g. the token): a chunk holding a key still in flight in
 * an earlier chunk is sent only after that chunk settled, so the later line of the file wins, as
 * it would sent one by one.
 */
import type { Platform } from '../lib/tpns/types.js';

export interface ChunkItem {
  platform: Platform;
}

export interface DispatcherOptions<T> {
  concurrency: number;
  chunkSize: number;
  /** Items with the same key (per platform) are sent in input order. */
  orderKey?: (item: T) => string;
}

/** Sends one chunk and records its per-item outcomes itself; throws only to stop the whole run. */
export type SendChunk<T> = (platform: Platform, items: T[]) => Promise<void>;

export class ChunkDispatcher<T extends ChunkItem> {
  readonly #send: SendChunk<T>;
  readonly #options: DispatcherOptions<T>;
  readonly #buffers = new Map<Platform, T[]>();
  readonly #inFlight = new Set<Promise<void>>();
  /** `platform key` -> the in-flight chunk holding it. */
  readonly #tokenChunks = new Map<string, Promise<void>>();
  #stopped: { error: unknown } | undefined;

  constructor(send: SendChunk<T>, options: DispatcherOptions<T>) {
    this.#send = send;
    this.#options = options;
  }

  /** Buffers `item`; sends its platform's chunk once full. Throws the error that stopped the run. */
  async add(item: T): Promise<void> {
    this.#throwIfStopped();
    const buffer = this.#buffers.get(item.platform) ?? [];
    buffer.push(item);
    this.#buffers.set(item.platform, buffer);
    if (buffer.length >= this.#options.chunkSize) {
      this.#buffers.delete(item.platform);
      await this.#dispatch(item.platform, buffer);
    }
  }

  /** Sends what is buffered and waits for every chunk to settle. */
  async flush(): Promise<void> {
    for (const [platform, buffer] of this.#buffers) {
      this.#throwIfStopped();
      this.#buffers.delete(platform);
      await this.#dispatch(platform, buffer);
    }
    await Promise.all(this.#inFlight);
    this.#throwIfStopped();
  }

  /** Waits for the chunks already sent (after a stop, to report what they did). */
  async settle(): Promise<void> {
    await Promise.all(this.#inFlight);
  }

  async #dispatch(platform: Platform, items: T[]): Promise<void> {
    while (this.#inFlight.size >= this.#options.concurrency) await Promise.race(this.#inFlight);
    this.#throwIfStopped();
    const { orderKey } = this.#options;
    const keys = orderKey ? items.map((item) => `${platform} ${orderKey(item)}`) : [];
    const earlier = new Set(keys.flatMap((key) => this.#tokenChunks.get(key) ?? []));
    const chunk: Promise<void> = Promise.all(earlier)
      .then(() => this.#send(platform, items))
      .catch((error: unknown) => {
        this.#stopped ??= { error };
      })
      .finally(() => {
        this.#inFlight.delete(chunk);
        for (const key of keys) if (this.#tokenChunks.get(key) === chunk) this.#tokenChunks.delete(key);
      });
    this.#inFlight.add(chunk);
    for (const key of keys) this.#tokenChunks.set(key, chunk);
  }

  #throwIfStopped(): void {
    if (this.#stopped) throw this.#stopped.error;
  }
}
