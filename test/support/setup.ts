/**
 * vitest setupFiles: runs in every test worker before the test file's imports.
 *
 * Quiet tests: the handlers' JSON log lines and EMF metrics (Powertools writes them straight to
 * process.stdout) are captured per test and printed only when that test fails, with the test's
 * name, so `npm test` shows test names, progress and failures. Tests that read output
 * themselves still can: they wrap the capturing writer (./output.ts's captureOutput, whose
 * toHaveLogged / toHaveEmittedMetric matchers are registered here).
 */
import { beforeEach, onTestFailed } from 'vitest';
import { registerOutputMatchers } from './output.js';

registerOutputMatchers();

// Before any test file's imports (the SDK reads these when it builds a client): whatever the
// developer's shell exports, tests reach only the local servers, with dummy credentials, never an
// AWS account or profile or a real TPNS app. Stacks set their own endpoints on top.
for (const name of Object.keys(process.env)) if (/^(AWS_|TPNS_|BINDING|ERASURE_KEY)/.test(name)) delete process.env[name];
Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
});

type Write = typeof process.stdout.write;

const captured: string[] = [];
const passThrough = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };

function capture(): Write {
  return ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
    callback?.();
    return true;
  }) as Write;
}

if (process.env.TEST_LOGS !== 'show') {
  process.stdout.write = capture();
  process.stderr.write = capture();
}

beforeEach((context) => {
  captured.length = 0;
  onTestFailed(() => {
    if (captured.length === 0) return;
    passThrough.stderr(`\n--- output captured during "${context.task.name}" ---\n${captured.join('')}--- end of captured output ---\n`);
  });
});
