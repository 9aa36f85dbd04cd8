/** Everything one running emulator knows: its two apps, their binding stores, faults, log. */
import type { EmulatorApp, EmulatorPlatform } from './auth.js';
import { FaultInjector } from './faults.js';
import { RequestLog } from './log.js';
import type { OperationContext } from './operations.js';
import { BindingStore } from './state.js';

export interface RuntimeSettings {
  apps: Record<EmulatorPlatform, EmulatorApp>;
  propagationDelayMs: number;
  invalidTokens: readonly string[];
  maxLogEntries?: number;
}

export class EmulatorRuntime {
  readonly apps: Record<EmulatorPlatform, EmulatorApp>;
  readonly appList: readonly EmulatorApp[];
  /** One store per app: Tencent isolates the Android and the iOS app's data. */
  readonly stores: Record<EmulatorPlatform, BindingStore> = { android: new BindingStore(), ios: new BindingStore() };
  readonly faults = new FaultInjector();
  readonly log: RequestLog;
  /** Aborted by close(): cuts injected latency short so no timer outlives the server. */
  readonly shutdown = new AbortController();
  invalidTokens: Set<string>;
  propagationDelayMs: number;

  constructor(private readonly initial: RuntimeSettings) {
    this.apps = initial.apps;
    this.appList = [initial.apps.android, initial.apps.ios];
    this.log = new RequestLog(initial.maxLogEntries);
    this.invalidTokens = new Set(initial.invalidTokens);
    this.propagationDelayMs = initial.propagationDelayMs;
  }

  context(app: EmulatorApp): OperationContext {
    return {
      app,
      store: this.stores[app.platform],
      invalidTokens: this.invalidTokens,
      propagationDelayMs: this.propagationDelayMs,
    };
  }

  /** Back to the state right after start: no bindings, log, or faults; the configured invalid tokens and delay. */
  reset(): void {
    this.stores.android.clear();
    this.stores.ios.clear();
    this.faults.clear();
    this.log.clear();
    this.invalidTokens = new Set(this.initial.invalidTokens);
    this.propagationDelayMs = this.initial.propagationDelayMs;
  }
}
