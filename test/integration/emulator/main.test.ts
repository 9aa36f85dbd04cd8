/** `npm run emulator`'s entry point as a real child process: banner, clean SIGTERM, busy port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startTpnsEmulator } from '../../../local/tpns-emulator/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;

interface Run {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
}

function runMain(env: Record<string, string>): Run {
  const child = spawn(NODE, ['--import', 'tsx', 'local/tpns-emulator/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, output: () => ({ stdout, stderr }) };
}

const exitOf = async (child: ChildProcess): Promise<number | null> => {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
};

describe('main (npm run emulator)', () => {
  it('prints the listening line and the credentials, serves, and exits 0 on SIGTERM', async () => {
    const run = runMain({
      TPNS_EMULATOR_PORT: '0',
      TPNS_ANDROID_ACCESS_ID: '1500000777',
      TPNS_ANDROID_SECRET_KEY: 'custom-android-key',
    });
    try {
      await expect.poll(() => run.output().stdout, { timeout: 15_000 }).toMatch(/^TPNS emulator listening on http:\/\/127\.0\.0\.1:\d+$/m);
      // The banner's lines can reach the pipe in separate chunks: wait for its last line too.
      await expect.poll(() => run.output().stdout, { timeout: 15_000 }).toContain('control API:');
      const { stdout } = run.output();
      const url = /^TPNS emulator listening on (\S+)$/m.exec(stdout)?.[1];
      // A key from the environment may be real: masked; the built-in one is printed to paste.
      expect(stdout).toContain('AccessId 1500000777  SecretKey cust... (18 characters, from TPNS_ANDROID_SECRET_KEY)');
      expect(stdout).not.toContain('custom-android-key');
      expect(stdout).toContain('AccessId 1600000001  SecretKey emulator-ios-secret-key');

      const health = await fetch(`${url}/_emulator/health`);
      expect(await health.json()).toMatchObject({ ok: true, apps: { android: { accessId: '1500000777' } } });

      run.child.kill('SIGTERM');
      expect(await exitOf(run.child)).toBe(0);
      expect(run.output().stderr).toBe('');
      await expect(fetch(`${url}/_emulator/health`)).rejects.toThrow();
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('a port in use: one clear line on stderr, exit code 1, no stack trace', async () => {
    const occupant = await startTpnsEmulator({ env: {} });
    try {
      const run = runMain({ TPNS_EMULATOR_PORT: String(occupant.port) });
      expect(await exitOf(run.child)).toBe(1);
      const { stdout, stderr } = run.output();
      expect(stderr.trim()).toBe(`TPNS emulator: port ${occupant.port} is already in use (set TPNS_EMULATOR_PORT to a free port)`);
      expect(stdout).toBe('');
    } finally {
      await occupant.close();
    }
  });

  it('a bad setting is refused the same way', async () => {
    const run = runMain({ TPNS_EMULATOR_PROPAGATION_MS: 'soon' });
    expect(await exitOf(run.child)).toBe(1);
    expect(run.output().stderr.trim()).toBe('TPNS emulator: TPNS_EMULATOR_PROPAGATION_MS must be a non-negative integer');
  });

  it('TPNS_EMULATOR_APPLY_WINDOW_MS / _APPLY_SEED turn reordering on: the banner says so and /config shows it', async () => {
    const run = runMain({ TPNS_EMULATOR_PORT: '0', TPNS_EMULATOR_APPLY_WINDOW_MS: '200-1500', TPNS_EMULATOR_APPLY_SEED: '7' });
    try {
      await expect.poll(() => run.output().stdout, { timeout: 15_000 }).toContain('control API:');
      const { stdout } = run.output();
      expect(stdout).toContain('  apply window: 200-1500 ms per task, out of order, seed 7; invalid tokens: 0');
      expect(stdout).not.toContain('propagation delay');
      const url = /^TPNS emulator listening on (\S+)$/m.exec(stdout)?.[1];
      const config = await fetch(`${url}/_emulator/config`);
      expect(await config.json()).toEqual({ propagationDelayMs: 0, applyWindow: { minMs: 200, maxMs: 1_500, seed: 7 } });
      run.child.kill('SIGTERM');
      expect(await exitOf(run.child)).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('a bad apply window is refused the same way', async () => {
    const run = runMain({ TPNS_EMULATOR_APPLY_WINDOW_MS: '1500-200' });
    expect(await exitOf(run.child)).toBe(1);
    expect(run.output().stderr.trim()).toBe('TPNS emulator: TPNS_EMULATOR_APPLY_WINDOW_MS must be MIN-MAX in ms with MIN <= MAX (e.g. 200-1500)');
  });
});
