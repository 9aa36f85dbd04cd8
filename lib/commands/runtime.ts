/** What a command needs: a subset of lib/config's Runtime, so commands run without Lambda or env. */
import type { WorkQueue } from '../queue/messages.js';
import type { TpnsAccountApi } from '../tpns/types.js';
import type { DirectBreaker } from './direct-breaker.js';

export interface Runtime {
  tpns: TpnsAccountApi;
  queue: WorkQueue;
  /** Per container: skips direct TPNS attempts for a moment while TPNS is struggling. None = always try direct. */
  directBreaker?: DirectBreaker;
}
