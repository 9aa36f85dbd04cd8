/**
 * Runs the real `tpns-accounts` launcher as a child process (the pinned Node, the same file
 * `npx tpns-accounts` runs) against a TPNS emulator started in the test process.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startTpnsEmulator } from '../../local/tpns-emulator/index.js';
import type { TpnsEmulator } from '../../local/tpns-emulator/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const LAUNCHER = join(ROOT, 'bin/tpns-accounts.mjs');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Only what the CLI needs: no TPNS_* or AWS_* leaking in from the developer's shell. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TPNS_') && !name.startsWith('AWS_') && name !== 'BINDING_QUEUE_URL'),
  );
}

/** Starts the CLI without waiting for it (a long-running command such as `emulator`). */
export function spawnCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(NODE, [LAUNCHER, ...args], { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** `--stats` prints the child's peak RSS on stderr. */
export function peakRssMb(run: CliRun): number {
  const match = /stats: (\{.*\})/.exec(run.stderr);
  if (!match?.[1]) throw new Error(`no stats line in stderr:\n${run.stderr}`);
  return (JSON.parse(match[1]) as { maxRssKb: number }).maxRssKb / 1024;
}

export interface CliWorld {
  emulator: TpnsEmulator;
  env: Record<string, string>;
  dir: string;
  /** Writes `content` to a file in the test's temp directory; returns its path. */
  file(name: string, content: string): Promise<string>;
  close(): Promise<void>;
}

export async function startCliWorld(): Promise<CliWorld> {
  const emulator = await startTpnsEmulator({ env: {} });
  const dir = await mkdtemp(join(tmpdir(), 'tpns-cli-'));
  return {
    emulator,
    env: { ...emulator.env },
    dir,
    async file(name, content) {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    },
    async close() {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One emulator and temp directory per test file, with bindings and request log reset before each test. */
export function useCliWorld(): () => CliWorld {
  let world: CliWorld | undefined;
  beforeAll(async () => {
    world = await startCliWorld();
  });
  afterAll(() => world?.close());
  beforeEach(() => world?.emulator.reset());
  return () => {
    if (!world) throw new Error('the CLI world starts in beforeAll');
    return world;
  };
}
