/**
 * The record reader streams a file line by line. Regression: readline emits lines as soon as the
 * file flows, so a caller that awaited anything before its first read used to lose the first
 * lines of a small file (CI saw a 6-line re-run import read as 1 line).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openRecords } from '../../cli/input/records.js';

const shape = { required: ['token', 'account', 'platform'], optional: ['accountType'], integers: ['accountType'] };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tpns-records-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it.each([
  ['jsonl', '{"token":"t1","account":"a1","platform":"ios"}\n{"token":"t2","account":"a2","platform":"ios"}\n{"token":"t3","account":"a3","platform":"ios"}'],
  ['csv', 'token,account,platform\nt1,a1,ios\nt2,a2,ios\nt3,a3,ios'],
] as const)('hands out every %s line even when the caller reads only after other work', async (format, content) => {
  const file = join(dir, `small.${format}`);
  await writeFile(file, content);
  const source = await openRecords(file, format, shape);
  // Let the file stream flow and readline emit before the first read, as a busy caller would.
  for (let turn = 0; turn < 20; turn += 1) await nextTurn();

  const tokens: unknown[] = [];
  for await (const record of source.records) if (record.ok) tokens.push(record.fields.token);
  expect(tokens).toEqual(['t1', 't2', 't3']);
});
