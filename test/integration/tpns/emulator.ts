/** A real TPNS emulator on a free port, and a client pointed at it (fast retry delays for tests). */
import type { TpnsEmulator } from '../../../local/tpns-emulator/index.js';
import { TpnsClient } from '../../../lib/tpns/client.js';
import type { TpnsClientEvent, TpnsClientOptions } from '../../../lib/tpns/types.js';

/** Small delays so retry paths run in milliseconds; budgets are set per test where they matter. */
export const FAST_RETRY = { budgetMs: 5_000, baseDelayMs: 5, maxDelayMs: 50 };


export interface TestClient {
  tpns: TpnsClient;
  events: TpnsClientEvent[];
}

export function clientFor(emulator: TpnsEmulator, options: Partial<TpnsClientOptions> = {}): TestClient {
  const events: TpnsClientEvent[] = [];
  const tpns = new TpnsClient({
    endpoint: emulator.url,
    apps: emulator.apps,
    retry: FAST_RETRY,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { tpns, events };
}

/** API calls the emulator received on `path` (`batchoperate` or `query`). */
export function callsTo(emulator: TpnsEmulator, path: 'batchoperate' | 'query') {
  return emulator.requests().filter((entry) => entry.path.endsWith(path));
}
