/** `npm start -- --help` and `npm run emulator -- --help` print help and start nothing. */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const entry = (path: string) => run(process.execPath, ['--import', 'tsx', path, '--help'], { timeout: 20_000 });

describe('--help', () => {
  it('npm start prints its settings and exits 0 without starting servers', async () => {
    const { stdout } = await entry('local/stack/main.ts');
    expect(stdout).toContain('npm start: the whole function set');
    expect(stdout).toContain('DYNAMODB_PORT');
    // Every setting docs/local.md lists, not a selection.
    for (const name of ['MAX_VERIFY_ATTEMPTS', 'SWEEP_AFTER_SECONDS', 'DIRECT_COOL_DOWN_MS', 'ERASURE_KEY', 'POWERTOOLS_METRICS_DISABLED', 'ACCOUNT_CLAIM', 'TPNS_EMULATOR_APPLY_WINDOW_MS']) {
      expect(stdout).toContain(name);
    }
    expect(stdout).toContain('a second Ctrl-C exits at once');
    expect(stdout).not.toContain('ready');
  });

  it('npm run emulator prints its settings and says the npm start emulator is enough', async () => {
    const { stdout } = await entry('local/tpns-emulator/main.ts');
    expect(stdout).toContain('TPNS_EMULATOR_APPLY_WINDOW_MS');
    expect(stdout).toContain('you do not need it');
  });
});

describe('port conflicts', () => {
  it('npm start names every taken port at once and starts nothing', async () => {
    const servers = await Promise.all(
      [0, 0].map(
        () =>
          new Promise<Server>((resolve) => {
            const server = createServer();
            server.listen(0, '127.0.0.1', () => resolve(server));
          }),
      ),
    );
    const [api, sqs] = servers.map((server) => (server.address() as AddressInfo).port);
    try {
      const failure = await run(process.execPath, ['--import', 'tsx', 'local/stack/main.ts'], {
        timeout: 20_000,
        env: { ...process.env, PORT: String(api), SQS_PORT: String(sqs), TPNS_EMULATOR_PORT: '0', DYNAMODB_PORT: '0' },
      }).then(
        () => undefined,
        (error: { code?: number; stderr?: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain(`port ${api} (PORT)`);
      expect(failure?.stderr).toContain(`port ${sqs} (SQS_PORT)`);
    } finally {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });
});
