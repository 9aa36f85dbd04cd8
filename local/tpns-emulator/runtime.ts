/**
 * Everything one running emulator knows: its two apps, their binding stores, faults, log.
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EmulatorApp, EmulatorPlatform } from './auth.js';
import { FaultInjector } from './faults.js';
import { seededRandom } from '../seeded-random.js';
import { RequestLog } from './log.js';
import type { OperationContext } from './operations.js';
import { BindingStore, type ApplyOrder } from './state.js';

/**
 * Reordering mode: each accepted batchoperate task (one per item) is applied after its own delay,
 * drawn uniformly from [minMs, maxMs), independently of every other task — so two tasks on one
 * token can land in either order, as nothing Tencent publishes rules out. While it is on, the
 * in-order `propagationDelayMs` is not used.
 */
export interface ApplyWindow {
  minMs: number;
  maxMs: number;
  /** Draw the delays from a PRNG with this seed (restarted whenever the window is set or reset). */
  seed?: number;
}

export interface RuntimeSettings {
  apps: Record<EmulatorPlatform, EmulatorApp>;
  propagationDelayMs: number;
  /** null: off, changes are applied in order after `propagationDelayMs`. */
  applyWindow: ApplyWindow | null;
  /** Random source in [0, 1) for the window's delays when it has no seed; default Math.random. */
  random?: () => number;
  invalidTokens: readonly string[];
  maxLogEntries?: number;
}

/** When one task is applied: what BindingStore.submit takes besides the change. */
export interface ApplyTiming {
  delayMs: number;
  order: ApplyOrder;
}

/** Throws on a window the emulator cannot draw from, naming the bad field. */
export function checkApplyWindow(window: ApplyWindow): ApplyWindow {
  const { minMs, maxMs, seed } = window;
  if (!Number.isFinite(minMs) || minMs < 0) throw new RangeError('applyWindow.minMs must be a non-negative number of ms');
  if (!Number.isFinite(maxMs) || maxMs < minMs) throw new RangeError('applyWindow.maxMs must be a number of ms >= minMs');
  if (seed !== undefined && !Number.isInteger(seed)) throw new RangeError('applyWindow.seed must be an integer');
  return seed === undefined ? { minMs, maxMs } : { minMs, maxMs, seed };
}

const PLATFORMS: readonly EmulatorPlatform[] = ['android', 'ios'];

export class EmulatorRuntime {
  /** The emulator's one clock: request arrival (`receivedAt`) and task visibility are both read from it. */
  readonly now: () => number = Date.now;
  readonly apps: Record<EmulatorPlatform, EmulatorApp>;
  readonly appList: readonly EmulatorApp[];
  /** One store per app: Tencent isolates the Android and the iOS app's data. */
  readonly stores: Record<EmulatorPlatform, BindingStore> = { android: new BindingStore(this.now), ios: new BindingStore(this.now) };
  readonly faults = new FaultInjector();
  readonly log: RequestLog;
  /** Aborted by close(): cuts injected latency and idle() waits short so no timer outlives the server. */
  readonly shutdown = new AbortController();
  invalidTokens: Set<string>;
  propagationDelayMs: number;
  private window: ApplyWindow | null = null;
  private random: () => number = Math.random;

  constructor(private readonly initial: RuntimeSettings) {
    this.apps = initial.apps;
    this.appList = [initial.apps.android, initial.apps.ios];
    this.log = new RequestLog(initial.maxLogEntries);
    this.invalidTokens = new Set(initial.invalidTokens);
    this.propagationDelayMs = initial.propagationDelayMs;
    this.applyWindow = initial.applyWindow;
  }

  get applyWindow(): ApplyWindow | null {
    return this.window && { ...this.window };
  }

  /** Switches reordering on (a window) or off (null); a seed restarts its PRNG, so runs repeat. */
  set applyWindow(window: ApplyWindow | null) {
    this.window = window && checkApplyWindow(window);
    const seed = this.window?.seed;
    this.random = seed === undefined ? (this.initial.random ?? Math.random) : seededRandom(seed);
  }

  /** Drawn once per task, so each item of a call gets its own delay in reordering mode. */
  timing(): ApplyTiming {
    const window = this.window;
    if (!window) return { delayMs: this.propagationDelayMs, order: 'in-order' };
    return { delayMs: window.minMs + this.random() * (window.maxMs - window.minMs), order: 'independent' };
  }

  context(app: EmulatorApp): OperationContext {
    return {
      app,
      store: this.stores[app.platform],
      invalidTokens: this.invalidTokens,
      timing: () => this.timing(),
    };
  }

  /** Tasks accepted but not applied yet, per app. */
  pending(): Record<EmulatorPlatform, number> {
    return { android: this.stores.android.pendingCount, ios: this.stores.ios.pendingCount };
  }

  /**
   * Resolves once every accepted task of both apps has been applied. Waits until the last one is
   * due, then looks again: tasks accepted meanwhile count too. Rejects when `signal` or close()
   * aborts the wait.
   */
  async idle(signal?: AbortSignal): Promise<void> {
    const stop = signal ? AbortSignal.any([signal, this.shutdown.signal]) : this.shutdown.signal;
    for (;;) {
      const dueTimes = PLATFORMS.flatMap((platform) => this.stores[platform].pendingUntil() ?? []);
      if (dueTimes.length === 0) return;
      // At least 1 ms: a timer may fire a little before Date.now() reaches the due time.
      await sleep(Math.max(1, Math.ceil(Math.max(...dueTimes) - this.now())), undefined, { signal: stop });
    }
  }

  /** Back to the state right after start: no bindings, log, or faults; the configured invalid tokens, delay and window. */
  reset(): void {
    this.stores.android.clear();
    this.stores.ios.clear();
    this.faults.clear();
    this.log.clear();
    this.invalidTokens = new Set(this.initial.invalidTokens);
    this.propagationDelayMs = this.initial.propagationDelayMs;
    this.applyWindow = this.initial.applyWindow;
  }
}
