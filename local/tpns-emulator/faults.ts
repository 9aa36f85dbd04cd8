/**
 * Fault injection: rules that make matching API calls fail (HTTP 500, TPNS 1008004 or 1008028),
 * slow down (added latency) or lose their connection. A rule fires for the next `count` matching
 * calls, or for a fraction `rate` of them drawn from a seeded PRNG so a test run is repeatable.
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import { seededRandom } from '../seeded-random.js';
import type { EmulatorPlatform } from './auth.js';

/** `internal` answers TPNS 1008004, `rate-limit` 1008028 (both HTTP 200, as TPNS does). */
export const FAULT_KINDS = ['http500', 'internal', 'rate-limit', 'latency', 'drop'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
  kind: FaultKind;
  /** Fraction (0-1] of matching calls that fail; with neither rate nor count, every call. */
  rate?: number;
  /** Fail only the next N matching calls, then the rule is spent. */
  count?: number;
  /** Only calls whose path ends with this (e.g. `batchoperate`, `/v3/device/account/query`). */
  path?: string;
  /** Only calls signed by this platform's app. */
  platform?: EmulatorPlatform;
  /** `latency`: added delay before the call is answered normally (default 1 000). */
  latencyMs?: number;
  /** `rate-limit`, `http500`: value of the Retry-After header, in seconds. */
  retryAfterSeconds?: number;
  /** PRNG seed for `rate` (default 1). */
  seed?: number;
}

export interface ActiveFault extends FaultRule {
  id: number;
  /** Calls this rule has affected so far. */
  fired: number;
}

interface Entry {
  fault: ActiveFault;
  random: () => number;
}

export class FaultInjector {
  private entries: Entry[] = [];
  private nextId = 1;

  add(rule: FaultRule): ActiveFault {
    const fault: ActiveFault = { ...rule, id: this.nextId++, fired: 0 };
    this.entries.push({ fault, random: seededRandom(rule.seed ?? 1) });
    return fault;
  }

  list(): ActiveFault[] {
    return this.entries.map(({ fault }) => ({ ...fault }));
  }

  clear(): void {
    this.entries = [];
  }

  /**
   * The faults that apply to one call: at most one latency plus at most one failure, first
   * matching rule of each sort wins. Every matching rule draws from its PRNG, so the sequence of
   * outcomes for a seed does not depend on other rules.
   */
  pick(path: string, platform: EmulatorPlatform | undefined): { latencyMs: number; failure?: ActiveFault } {
    if (this.entries.length === 0) return { latencyMs: 0 };
    let latencyMs = 0;
    let failure: ActiveFault | undefined;
    for (const { fault, random } of this.entries) {
      if (fault.path !== undefined && !path.endsWith(fault.path)) continue;
      if (fault.platform !== undefined && fault.platform !== platform) continue;
      if (fault.count !== undefined && fault.fired >= fault.count) continue;
      if (fault.rate !== undefined && random() >= fault.rate) continue;
      const isLatency = fault.kind === 'latency';
      if (isLatency ? latencyMs > 0 : failure) continue;
      fault.fired += 1;
      if (isLatency) latencyMs = fault.latencyMs ?? 1_000;
      else failure = fault;
    }
    this.entries = this.entries.filter(({ fault }) => fault.count === undefined || fault.fired < fault.count);
    return { latencyMs, failure };
  }
}
