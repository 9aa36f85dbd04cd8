/**
 * The request log and counters the control API exposes (API calls only, never control calls).
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import type { EmulatorPlatform } from './auth.js';
import type { FaultKind } from './faults.js';
import type { AccountKey } from './state.js';

/**
 * One item of a call, as asked: ops 1-3 a token and its accounts; op 4 and query op 2 a token;
 * op 5 and query op 1 an account. `accountType` is 0 where the body left it out.
 */
export type RequestedItem = { token: string; accounts?: AccountKey[] } | AccountKey;

export interface RequestLogEntry {
  /** 1, 2, 3, ... in arrival order. */
  seq: number;
  /**
   * Arrival time, epoch ms, on the emulator's clock (the one that times pending tasks): taken
   * when the request reached the emulator, before its body was read or any injected latency.
   */
  receivedAt: number;
  /** The same as `receivedAt` (its older name). */
  time: number;
  path: string;
  /** The platform of the app that signed the call; absent when authentication failed. */
  platform?: EmulatorPlatform;
  auth: 'sign' | 'basic' | 'none';
  /** `operator_type` when the body had one. */
  operatorType?: number;
  /** Tokens (ops 1-4, query op 2) or accounts (op 5, query op 1) in the body. */
  items?: number;
  /** What each item asked for, in request order; present when the body was valid (even if a fault then failed the call). */
  requested?: RequestedItem[];
  /** The parsed JSON body (undefined when it did not parse). */
  body?: unknown;
  httpStatus: number;
  /** TPNS `ret_code`/`retCode` answered; absent for dropped connections and injected HTTP 500s. */
  retCode?: number;
  /** Per-item statuses answered. */
  result?: string[];
  /** Injected fault that shaped this answer. */
  fault?: FaultKind;
  /** Injected latency, ms. */
  latencyMs?: number;
}

export interface EmulatorCounters {
  requests: number;
  byPath: Record<string, number>;
  byHttpStatus: Record<string, number>;
  byRetCode: Record<string, number>;
  byFault: Record<string, number>;
  /** Items answered "0" by batchoperate. */
  itemsApplied: number;
  /** Items answered with another status by batchoperate. */
  itemsFailed: number;
}

/** Older entries are dropped past this many so a long benchmark cannot exhaust memory. */
export const DEFAULT_MAX_LOG_ENTRIES = 10_000;

const increment = (table: Record<string, number>, key: string | number): void => {
  table[key] = (table[key] ?? 0) + 1;
};

const emptyCounters = (): EmulatorCounters => ({
  requests: 0,
  byPath: {},
  byHttpStatus: {},
  byRetCode: {},
  byFault: {},
  itemsApplied: 0,
  itemsFailed: 0,
});

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private totals = emptyCounters();
  private seq = 0;

  constructor(private readonly maxEntries: number = DEFAULT_MAX_LOG_ENTRIES) {}

  record(entry: Omit<RequestLogEntry, 'seq'>): void {
    const full: RequestLogEntry = { seq: ++this.seq, ...entry };
    this.entries.push(full);
    if (this.entries.length > this.maxEntries * 2) this.entries = this.entries.slice(-this.maxEntries);

    const totals = this.totals;
    totals.requests += 1;
    increment(totals.byPath, entry.path);
    increment(totals.byHttpStatus, entry.httpStatus);
    if (entry.retCode !== undefined) increment(totals.byRetCode, entry.retCode);
    if (entry.fault) increment(totals.byFault, entry.fault);
    if (entry.path.endsWith('batchoperate') && entry.result) {
      for (const status of entry.result) {
        if (status === '0') totals.itemsApplied += 1;
        else totals.itemsFailed += 1;
      }
    }
  }

  list(): RequestLogEntry[] {
    return this.entries.slice(-this.maxEntries);
  }

  counters(): EmulatorCounters {
    return structuredClone(this.totals);
  }

  clear(): void {
    this.entries = [];
    this.totals = emptyCounters();
    this.seq = 0;
  }
}
