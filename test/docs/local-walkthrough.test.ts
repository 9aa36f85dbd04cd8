/**
 * docs/local.md's walkthrough must reproduce as written: every marked command block runs, in
 * order, in one bash (with the `export` lines of the ready block pasted first, as the doc says),
 * against the stack `npm start` starts (startLocalStack, on free ports: the doc's default ports
 * are rewritten), and each documented output is compared by shape with what the commands
 * printed. The ready block itself is compared with readyBanner().
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/stack/function-loader.js';
import { readyBanner } from '../../local/stack/ready-banner.js';
import { startLocalStack } from '../../local/stack/stack.js';
import type { LocalStack } from '../../local/stack/stack.js';
import { outputDifference, parseWalkthrough } from './walkthrough.js';

const run = promisify(execFile);
const walkthrough = parseWalkthrough(readFileSync(new URL('../../docs/local.md', import.meta.url), 'utf8'));
/** A second terminal's environment: nothing the stack set in this process. */
const terminalEnv = { ...process.env };
/**
 * Three bulk imports of 2 000 (one riding out faults), waits for the queue, npm and npx starts:
 * 133 s alone on the 2-core machine, 140 s beside the other test files (2026-12-03, after the
 * push's decisions in call-sized groups; 212 s alone and past 470 s in CI before).
 */
const WALKTHROUGH_TIMEOUT_MS = 480_000;

const hasAws = (() => {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let stack: LocalStack;

beforeAll(async () => {
  // As `npm start` runs it, the worker's schedule included.
  stack = await startLocalStack({ port: 0, emulatorPort: 0, sqsPort: 0, dynamoPort: 0, waitTimeSeconds: 1, schedule: true });
});
afterAll(async () => {
  await stack?.stop();
});

/** The doc's default addresses, as this run's stack has them. */
function localize(text: string): string {
  const addresses: [number, string][] = [
    [3000, stack.apiUrl],
    [4010, stack.emulator?.url ?? ''],
    [9324, stack.sqs.endpoint],
    [8000, stack.dynamo.endpoint],
  ];
  return addresses.reduce((result, [port, url]) => result.replace(new RegExp(`http://127\\.0\\.0\\.1:${port}(?!\\d)`, 'g'), url), text);
}

const STEP_MARK = '@@walkthrough-step@@';

describe('docs/local.md walkthrough', () => {
  it('prints the ready block the doc shows', () => {
    expect(outputDifference(localize(walkthrough.banner), readyBanner(stack))).toBe('');
  });

  it('every marked command block prints what the doc shows after it', async () => {
    const steps = walkthrough.steps.filter((step) => hasAws || !step.needsAws);
    // Enough of the walkthrough is checked that losing the markers cannot pass unnoticed.
    expect(steps.filter((step) => step.expected !== undefined).length).toBeGreaterThanOrEqual(15);

    const exports = readyBanner(stack)
      .split('\n')
      .filter((line) => /^\s+export \w+=/.test(line))
      .map((line) => line.trim());
    expect(exports.join('\n')).toContain('export ERASURE_KEY=');
    const script = ['set -e', ...exports, ...steps.flatMap((step) => [`printf '\\n${STEP_MARK}\\n'`, localize(step.script)])].join('\n');

    let stdout: string;
    try {
      ({ stdout } = await run('bash', ['-c', script], { cwd: PROJECT_ROOT, env: terminalEnv, timeout: WALKTHROUGH_TIMEOUT_MS - 10_000, maxBuffer: 64 * 1024 * 1024 }));
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; code?: number | string };
      const reached = (failed.stdout ?? '').split(STEP_MARK).length - 2;
      throw new Error(`the walkthrough stopped (exit ${failed.code}) in the block at docs/local.md:${steps[reached]?.line}:\n${failed.stderr ?? ''}`, { cause: error });
    }
    const outputs = stdout.split(`\n${STEP_MARK}\n`).slice(1);
    expect(outputs).toHaveLength(steps.length);
    const differences = steps.flatMap((step, index) => {
      if (step.expected === undefined) return [];
      const difference = outputDifference(localize(step.expected), outputs[index] ?? '');
      return difference ? [`docs/local.md:${step.line}: ${difference}\n--- printed:\n${outputs[index]}`] : [];
    });
    expect(differences.join('\n\n')).toBe('');
  }, WALKTHROUGH_TIMEOUT_MS);
});

describe('the walkthrough comparison', () => {
  it('tells a 202 from a 200, and a missing key from a present one', () => {
    expect(outputDifference('{"applied":1,"failed":[]} 200', '{"queued":1,"chunks":1,"applied":0,"failed":[]} 202')).not.toBe('');
    expect(outputDifference('{"applied":1,"failed":[]} 200', '{"applied":1,"failed":[]} 202')).not.toBe('');
    expect(outputDifference('{"applied":1,"failed":[]} 200', '{"applied":1,"failed":[]} 200\n')).toBe('');
  });

  it('lets "..." and timestamps stand for what differs per run, and nothing else', () => {
    const documented = '{"account":"a","since":"2026-12-01T09:51:36.472Z","id":"..."}\nbob (type 0): verified, requested 2026-12-01T09:51:40.797Z\n...';
    expect(outputDifference(documented, '{"id":7,"account":"a","since":"2027-01-02T03:04:05.006Z"}\nbob  (type 0): verified, requested 2027-01-02T03:04:05.006Z\nmore\nlines')).toBe('');
    expect(outputDifference(documented, '{"account":"b","since":"2027-01-02T03:04:05.006Z","id":1}\nbob (type 0): verified, requested 2027-01-02T03:04:05.006Z')).toContain('$.account');
    expect(outputDifference(documented, '{"account":"a","since":"yesterday","id":1}\nbob (type 0): verified, requested 2027-01-02T03:04:05.006Z')).toContain('timestamp');
    expect(outputDifference('{"a":1}', '{"a":1,"b":2}')).toContain('unexpected b');
  });
});
