/**
 * The README's client example must run as written: this test takes the ```ts block from
 * README.md, saves it in the repository root (where its relative import resolves), and runs it
 * on the pinned Node against a real emulator.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTpnsEmulator, type TpnsEmulator } from '../../local/tpns-emulator/index.js';

const run = promisify(execFile);
const exampleFile = '.readme-example.test-run.ts';
let emulator: TpnsEmulator;

beforeAll(async () => {
  emulator = await startTpnsEmulator({ env: {} });
});
afterAll(async () => {
  rmSync(exampleFile, { force: true });
  await emulator.close();
});

function readmeTypeScriptBlocks(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

test('the README has exactly one TypeScript example, and it runs against the emulator', async () => {
  const blocks = readmeTypeScriptBlocks();
  expect(blocks).toHaveLength(1);
  writeFileSync(exampleFile, blocks[0]!);

  const { stdout } = await run('node_modules/.bin/node', ['--import', 'tsx', exampleFile], {
    env: { ...process.env, TPNS_ENDPOINT: emulator.url },
  });

  expect(stdout).toContain("[ 'android-token-1' ]");
  expect(emulator.tokensOf('android', 'user-42')).toEqual(['android-token-1']);
  expect(emulator.requests().filter((r) => r.path.endsWith('/batchoperate'))).toHaveLength(1);
});
