import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Captures the handlers' log and metric lines per test; shown only when the test fails (TEST_LOGS=show prints them all).
    setupFiles: ['test/support/setup.ts'],
    // Integration tests start real servers (TPNS emulator, fauxqs) on port 0; run files in
    // parallel processes but keep the 2-core CI machine from oversubscribing.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
