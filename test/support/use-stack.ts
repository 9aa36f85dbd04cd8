/**
 * The test stack for one test file: started before its first test and closed after its last, so
 * a test file says only what it needs (`useStack((started) => (stack = started), options)`).
 * Apart from stack.ts because it registers vitest hooks, and the bench uses stack.ts outside vitest.
 */
import { afterAll, beforeAll } from 'vitest';
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
