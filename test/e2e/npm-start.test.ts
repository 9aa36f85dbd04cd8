/**
 * The commands a newcomer types, run for real: `npm start` (in its own process group, stopped
 * the way Ctrl-C stops it) and `npm run --silent token`. Ports 0 so the test never collides
 * with a stack someone is running; then the API port must be free again.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/stack/function-loader.js';

const run = promisify(execFile);
/** `npm start` on a busy 2-core CI machine: npm, tsx and the whole stack. */
const STARTUP_TIMEOUT_MS = 40_000;
const TEST_TIMEOUT_MS = 60_000;

const children: ChildProcess[] = [];

afterEach(() => {
  // A failed assertion must not leave a stack running.
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
  }
});

function npmStart(env: Record<string, string>) {
  const child = spawn('npm', ['start'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TPNS_EMULATOR_PORT: '0', SQS_PORT: '0', DYNAMODB_PORT: '0', ...env },
    detached: true, // its own process group, like a terminal's foreground job
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    /** Resolves with the API URL once the ready block is printed. */
    ready: () =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "API:" line in time:\n${stdout}\n${stderr}`)), STARTUP_TIMEOUT_MS);
        const look = () => {
          const match = /^API: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        child.stdout.on('data', look);
        void exited.then(() => reject(new Error(`npm start exited before it was ready:\n${stdout}\n${stderr}`)));
      }),
  };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('npm start', () => {
  // Its prestart would otherwise run `npm ci` here, and pull node_modules away from every other test file running meanwhile.
  beforeAll(async () => {
    await run(process.execPath, ['bin/ensure-deps.mjs', '--check'], { cwd: PROJECT_ROOT }).catch(() => {
      throw new Error('node_modules is older than package-lock.json: run `npm ci` (or `npm test`, whose pretest installs) before this test');
    });
  });

  it('prints the ready block, serves a sign-in with a token from `npm run --silent token`, and stops cleanly on Ctrl-C', async () => {
    const stack = npmStart({ PORT: '0' });
    const apiUrl = await stack.ready();
    const { stdout } = stack.output();
    expect(stdout).toMatch(/^TPNS emulator: http:\/\/127\.0\.0\.1:\d+/m);
    expect(stdout).toMatch(/^SQS: http:\/\/127\.0\.0\.1:\d+/m);
    expect(stdout).toMatch(/^DynamoDB: http:\/\/127\.0\.0\.1:\d+/m);
    // The worker's schedule runs too, at serverless.yml's rate: the sweep.
    expect(stdout).toMatch(/^Worker: .*; every 300 s it sweeps up work that stood still 1200 s$/m);
    const table = /^ {2}table {8}(\S+)/m.exec(stdout)?.[1];
    expect(table).toBeTruthy();
    // The ready block points the CLI and the AWS SDK at the local queues and the ledger table.
    expect(stdout).toContain(`export BINDINGS_TABLE=${table}`);
    expect(stdout).toMatch(/^ {2}export AWS_ENDPOINT_URL_DYNAMODB=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(stdout).toMatch(/^ {2}export BINDING_QUEUE_URL=http:\/\/127\.0\.0\.1:\d+\/\S+$/m);
    // tpns-accounts `erasure-status` and `import --via-queue` key tombstones with the handlers' key.
    expect(stdout).toMatch(/^ {2}export ERASURE_KEY=tpns-account-sync-local-erasure-key$/m);
    expect(stdout).toMatch(/^ {2}export AWS_DEFAULT_REGION=us-east-1$/m);
    expect(stdout).toContain('TOKEN=$(npm run --silent token -- alice)');

    const { stdout: printed } = await run('npm', ['run', '--silent', 'token', '--', 'alice'], { cwd: PROJECT_ROOT });
    const token = printed.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/); // the token and nothing else

    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const signIn = await fetch(`${apiUrl}/v1/me/devices/npm-start-device-1`, { method: 'PUT', headers, body: '{"platform":"android"}' });
    expect(signIn.status).toBe(200);
    // Read-your-writes from the ledger, with how far TPNS has come.
    const devices = await fetch(`${apiUrl}/v1/me/devices`, { headers });
    expect(await devices.json()).toMatchObject({
      account: 'alice',
      devices: [{ platform: 'android', token: 'npm-start-device-1', state: expect.stringMatching(/^(applied|verified)$/), since: expect.any(String) }],
    });
    const live = await fetch(`${apiUrl}/v1/me/devices?source=tpns`, { headers });
    expect(await live.json()).toEqual({ account: 'alice', devices: [{ platform: 'android', token: 'npm-start-device-1' }] });

    // Ctrl-C: SIGINT to the whole foreground process group (npm, sh, node).
    process.kill(-(stack.child.pid ?? 0), 'SIGINT');
    const exit = await stack.exited;
    // npm itself dies of the SIGINT as usual; the stack must have shut down on its own terms.
    expect(exit.code === 0 || exit.signal === 'SIGINT').toBe(true);
    expect(stack.output().stdout).toContain('stopped; every port is free.');
    // One access line per request; handler logs at WARN and no EMF lines, as the ready block says
    // (the logger and the metrics read their settings when first imported, so this breaks if
    // local/ imports them before the stack's environment is applied).
    expect(stack.output().stdout).toContain('PUT /v1/me/devices/{token} -> login: 200 in ');
    expect(stack.output().stdout).not.toContain('"level":"INFO"');
    expect(stack.output().stdout).not.toContain('"_aws"');
    const ports = [...stdout.matchAll(/^(?:API|TPNS emulator|SQS|DynamoDB): http:\/\/127\.0\.0\.1:(\d+)/gm)].map((match) => Number(match[1]));
    expect(ports).toHaveLength(4);
    for (const port of ports) expect(await portIsFree(port)).toBe(true);
  }, TEST_TIMEOUT_MS);

  it('says in one line that the port is taken, without a stack trace, and exits 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const stack = npmStart({ PORT: String(port) });
      expect((await stack.exited).code).toBe(1);
      const { stderr } = stack.output();
      expect(stderr).toContain(`port ${port}`);
      expect(stderr).toContain('PORT=');
      expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, TEST_TIMEOUT_MS);
});

describe('npm run --silent token', () => {
  it('refuses bad usage on stderr with exit code 2', async () => {
    const failure = await run('npm', ['run', '--silent', 'token', '--'], { cwd: PROJECT_ROOT }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 2, stdout: '' });
    expect((failure as { stderr: string }).stderr).toContain('usage: npm run --silent token');
  });
});
