/**
 * Runs the real `tpns-accounts` launcher as a child process (the pinned Node, the same file
 * `npx tpns-accounts` runs) against the test stack (test/support/stack.ts: TPNS emulator, fauxqs,
 * dynalite) started in the test process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { TpnsEmulator } from '../../local/tpns-emulator/index.js';
import { startStack } from '../support/stack.js';
import type { Stack, StackOptions } from '../support/stack.js';
import { DynamoLedger } from '../../lib/ledger/dynamo-ledger.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const LAUNCHER = join(ROOT, 'bin/tpns-accounts.mjs');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Variables of the deployment (and of a stack started in this process) that must reach the CLI only when a test passes them. */
const DEPLOYMENT_VARIABLE = /^(TPNS_|AWS_|BINDING|ERASURE_|VERIFY_DELAY_SECONDS$|MAX_VERIFY_ATTEMPTS$|POWERTOOLS_)/;

/**
 * Only what the CLI needs: no TPNS_*, AWS_*, BINDING* or ERASURE_* leaking in from the developer's
 * shell or from the stack this process started, and no AWS profile (a region in ~/.aws/config
 * would hide a missing AWS_REGION).
 */
function baseEnv(): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([name]) => !DEPLOYMENT_VARIABLE.test(name));
  const nowhere = join(tmpdir(), 'tpns-cli-no-aws-profile');
  return { ...Object.fromEntries(kept), AWS_CONFIG_FILE: join(nowhere, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(nowhere, 'credentials') };
}

/** Starts the CLI without waiting for it (a long-running command such as `emulator`). */
export function spawnCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(NODE, [LAUNCHER, ...args], { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the CLI as a child process (`bin/`, as a user would) and waits for it: exit code and both streams. */
export function runCliProcess(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliRun> {
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

export interface TerminalRun {
  code: number | null;
  /** Every byte the terminal received, stdout and stderr interleaved as an operator sees them. */
  output: string;
}

/** util-linux `script` gives the CLI a pseudo-terminal; without it the terminal tests cannot run. */
export const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Runs the CLI on a pseudo-terminal `columns` wide (through `script -qec`), in `cwd`, so its
 * stderr and stdout are a TTY as in an operator's shell. `interruptWhen`: the operator presses
 * Ctrl-C once the output so far satisfies it.
 */
export function runCliInTerminal(
  args: readonly string[],
  options: { env?: Readonly<Record<string, string>>; cwd?: string; columns?: number; interruptWhen?: (output: string) => boolean } = {},
): Promise<TerminalRun> {
  const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;
  const command = `stty cols ${options.columns ?? 100} rows 40 && exec ${[NODE, LAUNCHER, ...args].map(quote).join(' ')}`;
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: options.cwd ?? ROOT,
      env: { ...baseEnv(), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let interrupted = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (!interrupted && options.interruptWhen?.(output)) {
        interrupted = true;
        child.stdin.write('\x03'); // the terminal turns it into SIGINT for the CLI
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output }));
  });
}

/** `--stats` prints the child's peak RSS on stderr. */
export function peakRssMb(run: CliRun): number {
  const match = /stats: (\{.*\})/.exec(run.stderr);
  if (!match?.[1]) throw new Error(`no stats line in stderr:\n${run.stderr}`);
  return (JSON.parse(match[1]) as { maxRssKb: number }).maxRssKb / 1024;
}

/** Streams `lines` generated lines to `dir/name` without building the file in memory; returns its path. */
export async function generateFile(dir: string, name: string, header: string | undefined, lines: number, line: (index: number) => string): Promise<string> {
  const path = join(dir, name);
  const out = createWriteStream(path);
  if (header) out.write(`${header}\n`);
  for (let index = 0; index < lines; index += 1) {
    if (!out.write(`${line(index)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return path;
}


/** `env` without the named variables. */
export const without = (env: Readonly<Record<string, string>>, ...names: string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));

export interface CliWorld {
  stack: Stack;
  /** The stack's TPNS emulator. */
  emulator: TpnsEmulator;
  /** What points the CLI at the stack: TPNS emulator and its credentials, queues, ledger table, erasure key, region. */
  env: Record<string, string>;
  /** Only the TPNS emulator and its credentials (the TPNS-only commands need nothing else). */
  tpnsEnv: Record<string, string>;
  /** The stack's intent ledger, keyed as the CLI's runtime keys it (the stack's erasure key). */
  ledger: DynamoLedger;
  dir: string;
  /** Writes `content` to a file in the test's temp directory; returns its path. */
  file(name: string, content: string): Promise<string>;
  close(): Promise<void>;
}

export async function startCliWorld(options: Pick<StackOptions, 'worker'> = {}): Promise<CliWorld> {
  // The emulator ignores TPNS_* of this process (a previous stack's): its own defaults.
  const stack = await startStack({ emulator: { env: {} }, ...options });
  const dir = await mkdtemp(join(tmpdir(), 'tpns-cli-'));
  return {
    stack,
    emulator: stack.tpns,
    // An operator's shell has none of the test stack's POWERTOOLS_* settings (e.g. metrics off): the CLI must cope without them.
    env: Object.fromEntries(Object.entries(stack.env).filter(([name]) => !name.startsWith('POWERTOOLS_'))),
    tpnsEnv: { ...stack.tpns.env },
    ledger: new DynamoLedger({ tableName: stack.env.BINDINGS_TABLE ?? '', erasureKey: stack.env.ERASURE_KEY ?? '', retentionDays: 30 }),
    dir,
    async file(name, content) {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    },
    async close() {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One stack and temp directory per test file (`useCliWorld((started) => (world = started))`),
 * with TPNS's bindings, log and faults reset before each test.
 */
export function useCliWorld(set: (world: CliWorld) => void, options: Pick<StackOptions, 'worker'> = {}): void {
  let world: CliWorld | undefined;
  beforeAll(async () => {
    world = await startCliWorld(options);
    set(world);
  });
  afterAll(() => world?.close());
  beforeEach(() => world?.emulator.reset());
}
