/** What a command needs: a subset of lib/config's Runtime, so commands run without Lambda or env. */
import type { WorkQueue } from '../queue/messages.js';
import type { TpnsAccountApi } from '../tpns/types.js';

export interface Runtime {
  tpns: TpnsAccountApi;
  queue: WorkQueue;
}
