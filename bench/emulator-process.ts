/** The parent's handle on the TPNS emulator process: its address, credentials and control API. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EmulatorAppCredentials, EmulatorCounters } from '../local/tpns-emulator/index.js';
import type { Platform } from '../lib/tpns/types.js';

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
  const child = fork(HOST, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = await new Promise<Pick<EmulatorProcess, 'url' | 'env' | 'apps'>>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the TPNS emulator process exited with ${code}`)));
    child.once('message', (message) => resolve(message as Pick<EmulatorProcess, 'url' | 'env' | 'apps'>));
  });
  child.removeAllListeners('exit');
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
    cpuMs: () =>
      new Promise((resolve) => {
        const onMessage = (message: { cpu?: NodeJS.CpuUsage }) => {
          if (!message.cpu) return;
          child.off('message', onMessage);
          resolve((message.cpu.user + message.cpu.system) / 1000);
        };
        child.on('message', onMessage);
        child.send('cpu');
      }),
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('exit');
      await exited;
    },
  };
}
