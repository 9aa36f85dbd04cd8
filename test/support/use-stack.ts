/**
 * A test file's world, started before its first test and closed after its last, so a test file
 * says only what it needs: the whole stack (`useStack((started) => (stack = started), options)`)
 * or the TPNS emulator alone (`const emulator = useTpnsEmulator()`).
 * Apart from stack.ts because it registers vitest hooks, and the bench uses stack.ts outside vitest.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startTpnsEmulator } from '../../local/tpns-emulator/index.js';
import type { TpnsEmulator, TpnsEmulatorOptions } from '../../local/tpns-emulator/index.js';
import { startStack } from './stack.js';
import type { Stack, StackOptions } from './stack.js';

export function useStack(set: (stack: Stack) => void, options: StackOptions = {}, start: (options: StackOptions) => Promise<Stack> = startStack): void {
  let started: Stack | undefined;
  beforeAll(async () => {
    started = await start(options);
    set(started);
  });
  afterAll(() => started?.close());
}

/** One emulator for the file on a free port (its defaults only, `env: {}`: not this process's TPNS_*), reset before each test. */
export function useTpnsEmulator(options: TpnsEmulatorOptions = {}): () => TpnsEmulator {
  let emulator: TpnsEmulator | undefined;
  beforeAll(async () => {
    emulator = await startTpnsEmulator({ env: {}, ...options });
  });
  beforeEach(() => emulator?.reset());
  afterAll(() => emulator?.close());
  return () => {
    if (!emulator) throw new Error('emulator not started');
    return emulator;
  };
}
