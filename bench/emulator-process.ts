/** The parent's handle on the TPNS emulator process: its address, credentials and control API. */
import { fileURLToPath } from 'node:url';
import type { EmulatorAppCredentials, EmulatorCounters } from '../local/tpns-emulator/index.js';
import type { Platform } from '../lib/tpns/types.js';
import { startServiceProcess } from './service-process.js';

const HOST = fileURLToPath(new URL('./child/emulator-host.ts', import.meta.url));

export interface EmulatorProcess {
  url: string;
  /** TPNS_ENDPOINT and the apps' credentials, for the functions' environment. */
  env: Record<string, string>;
  apps: Record<Platform, EmulatorAppCredentials>;
  counters(): Promise<EmulatorCounters>;
  /** Clears bindings, log and counters. */
  reset(): Promise<void>;
  /** Every batchoperate call answered `ms` later, as a real TPNS round trip would be; 0 = loopback again. */
  setLatency(ms: number): Promise<void>;
  /** CPU time the emulator process used so far, ms. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

export async function startEmulatorProcess(): Promise<EmulatorProcess> {
  const service = await startServiceProcess<Pick<EmulatorProcess, 'url' | 'env' | 'apps'>>(HOST, 'TPNS emulator');
  const { ready } = service;
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${ready.url}/_emulator/${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`emulator control ${method} ${path} answered ${response.status}`);
    return response.json();
  };
  return {
    ...ready,
    counters: async () => (await control('GET', 'counters')) as EmulatorCounters,
    reset: async () => {
      await control('POST', 'reset');
    },
    setLatency: async (ms) => {
      await control('DELETE', 'faults');
      if (ms > 0) await control('POST', 'faults', { kind: 'latency', latencyMs: ms, path: 'batchoperate' });
    },
    cpuMs: service.cpuMs,
    close: service.close,
  };
}
