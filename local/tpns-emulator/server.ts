/**
 * Starts the emulator on node:http. Keep-alive friendly; every socket is tracked by node's
 * server so close() can end them all and leave no handle behind.
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { API_ROUTES, handleApiCall } from './api.js';
import type { EmulatorApp, EmulatorPlatform } from './auth.js';
import { emulatorSettingsFromEnv } from './config.js';
import { CONTROL_PREFIX, handleControl } from './control.js';
import type { ActiveFault, FaultRule } from './faults.js';
import { DEFAULT_MAX_BODY_BYTES, sendJson } from './http.js';
import type { EmulatorCounters, RequestLogEntry } from './log.js';
import { EmulatorRuntime, type ApplyWindow } from './runtime.js';
import type { AccountBindings, TokenBindings } from './state.js';

export interface EmulatorAppCredentials {
  accessId: string;
  secretKey: string;
}

export interface TpnsEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Where TPNS_* settings come from when not given below; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Per-platform credentials; default from TPNS_{ANDROID,IOS}_{ACCESS_ID,SECRET_KEY} or the local defaults. */
  apps?: Partial<Record<EmulatorPlatform, EmulatorAppCredentials>>;
  /** Delay before a batchoperate change is visible (Tencent: ~10 s); default TPNS_EMULATOR_PROPAGATION_MS or 0. */
  propagationDelayMs?: number;
  /**
   * Reordering mode: each accepted task (one per batchoperate item) is applied after its own
   * random delay in [minMs, maxMs), so tasks on one token can land out of order; null: off.
   * While on, `propagationDelayMs` is not used. Default TPNS_EMULATOR_APPLY_WINDOW_MS
   * (`MIN-MAX`, seed TPNS_EMULATOR_APPLY_SEED) or off.
   */
  applyWindow?: ApplyWindow | null;
  /** Random source in [0, 1) for the window's delays when the window has no `seed`; default Math.random. */
  random?: () => number;
  /** Tokens answered 1008006; default TPNS_EMULATOR_INVALID_TOKENS. */
  invalidTokens?: readonly string[];
  /** Larger bodies get HTTP 413 / 1008007; default 1 MB. */
  maxBodyBytes?: number;
  /** Request log entries kept (older ones are dropped); default 10 000. */
  maxLogEntries?: number;
}

export interface EmulatorState {
  tokens: TokenBindings[];
  accounts: AccountBindings[];
  /** Accepted tasks not applied (visible) yet: propagation delay or apply window. */
  pending: number;
}

export interface TpnsEmulator {
  /** Base URL, e.g. `http://127.0.0.1:4010` (give it to the client as `endpoint`). */
  readonly url: string;
  readonly port: number;
  readonly apps: Readonly<Record<EmulatorPlatform, EmulatorAppCredentials>>;
  /** The same TPNS_* variables pointing a client at this emulator (TPNS_ENDPOINT plus credentials). */
  readonly env: Readonly<Record<string, string>>;
  /** API calls in arrival order (control calls are not logged). */
  requests(): RequestLogEntry[];
  counters(): EmulatorCounters;
  /** Visible bindings of one app. */
  state(platform: EmulatorPlatform): EmulatorState;
  tokensOf(platform: EmulatorPlatform, account: string, accountType?: number): string[];
  accountsOf(platform: EmulatorPlatform, token: string): { account: string; accountType: number }[];
  injectFault(rule: FaultRule): ActiveFault;
  faults(): ActiveFault[];
  clearFaults(): void;
  setInvalidTokens(tokens: readonly string[]): void;
  setPropagationDelay(ms: number): void;
  /** Switches reordering mode on (a window) or off (null) for tasks accepted from now on. */
  setApplyWindow(window: ApplyWindow | null): void;
  /** The reordering window in use, or null (in order). */
  applyWindow(): ApplyWindow | null;
  /**
   * Resolves once every task accepted so far (both apps) has been applied, including tasks
   * accepted while waiting; calls still in flight are not tasks yet. Rejects if the emulator closes.
   */
  idle(): Promise<void>;
  /** Clears bindings, pending tasks, log, counters and faults; restores the started invalid tokens, delay and window. */
  reset(): void;
  /** Stops listening and destroys every open connection; resolves when all are gone. Idempotent. */
  close(): Promise<void>;
}

export async function startTpnsEmulator(options: TpnsEmulatorOptions = {}): Promise<TpnsEmulator> {
  const fromEnv = emulatorSettingsFromEnv(options.env ?? process.env);
  const app = (platform: EmulatorPlatform): EmulatorApp => ({ ...fromEnv.apps[platform], ...options.apps?.[platform], platform });
  const runtime = new EmulatorRuntime({
    apps: { android: app('android'), ios: app('ios') },
    propagationDelayMs: options.propagationDelayMs ?? fromEnv.propagationDelayMs,
    applyWindow: options.applyWindow === undefined ? fromEnv.applyWindow : options.applyWindow,
    random: options.random,
    invalidTokens: options.invalidTokens ?? fromEnv.invalidTokens,
    maxLogEntries: options.maxLogEntries,
  });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const route = API_ROUTES[url.pathname];
    const work = route
      ? req.method === 'POST'
        ? handleApiCall(runtime, req, res, route, url.pathname, maxBodyBytes)
        : Promise.resolve(sendJson(res, 405, { ret_code: 1008007, err_msg: 'use POST' }, { allow: 'POST' }))
      : url.pathname.startsWith(`${CONTROL_PREFIX}/`)
        ? handleControl(runtime, req, res, url)
        : Promise.resolve(sendJson(res, 404, { ret_code: 1008007, err_msg: `no such path ${url.pathname}` }));
    work.catch((error: unknown) => {
      sendJson(res, 500, { error: error instanceof Error ? error.message : 'emulator error' });
    });
  });

  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const closeServer = async (): Promise<void> => {
    runtime.shutdown.abort();
    const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    const socketsClosed = [...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
    server.closeAllConnections();
    for (const socket of sockets) socket.destroy(); // also those still sending a request
    await Promise.all([closed, ...socketsClosed]);
    // libuv frees the listening handle in the loop's close phase, just after 'close' is emitted.
    await new Promise((resolve) => setImmediate(resolve));
  };
  let closing: Promise<void> | undefined;

  const { port, address, family } = server.address() as AddressInfo;
  const url = `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  const { android, ios } = runtime.apps;
  const credentials = (value: EmulatorApp): EmulatorAppCredentials => ({ accessId: value.accessId, secretKey: value.secretKey });

  return {
    url,
    port,
    apps: { android: credentials(android), ios: credentials(ios) },
    env: {
      TPNS_ENDPOINT: url,
      TPNS_ANDROID_ACCESS_ID: android.accessId,
      TPNS_ANDROID_SECRET_KEY: android.secretKey,
      TPNS_IOS_ACCESS_ID: ios.accessId,
      TPNS_IOS_SECRET_KEY: ios.secretKey,
    },
    requests: () => runtime.log.list(),
    counters: () => runtime.log.counters(),
    state: (platform) => {
      const store = runtime.stores[platform];
      return { ...store.snapshot(), pending: store.pendingCount };
    },
    tokensOf: (platform, account, accountType = 0) => runtime.stores[platform].tokensOf({ account, accountType }),
    accountsOf: (platform, token) => runtime.stores[platform].accountsOf(token),
    injectFault: (rule) => runtime.faults.add(rule),
    faults: () => runtime.faults.list(),
    clearFaults: () => runtime.faults.clear(),
    setInvalidTokens: (tokens) => {
      runtime.invalidTokens = new Set(tokens);
    },
    setPropagationDelay: (ms) => {
      runtime.propagationDelayMs = ms;
    },
    setApplyWindow: (window) => {
      runtime.applyWindow = window;
    },
    applyWindow: () => runtime.applyWindow,
    idle: () => runtime.idle(),
    reset: () => runtime.reset(),
    close: () => (closing ??= closeServer()),
  };
}
