import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFile, peakRssMb, runCliProcess, useCliWorld } from './harness.js';
import type { CliWorld } from './harness.js';

let world: CliWorld;
useCliWorld((started) => (world = started));

interface Summary {
  lines: number;
  bound?: number;
  queued?: number;
  valid?: number;
  invalid: number;
  failed: number;
  failuresFile?: string;
  stoppedAfterLine?: number;
}

interface FailureLine {
  line: number;
  code: string;
  reason: string;
  token?: string;
  raw?: string;
}

const summaryOf = (stdout: string): Summary => JSON.parse(stdout) as Summary;
const readFailures = async (path: string): Promise<FailureLine[]> =>
  (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as FailureLine);

const generate = (name: string, header: string | undefined, lines: number, line: (index: number) => string): Promise<string> =>
  generateFile(world.dir, name, header, lines, line);

describe('import', () => {
  it('applies the good lines of a file with bad ones, reports each bad line by number, and writes a re-runnable failures file', async () => {
    world.emulator.setInvalidTokens(['tok-refused']);
    const file = await world.file(
      'mixed.csv',
      [
        'token,account,platform,accountType',
        'tok-1,alice,android,0', // 2
        'tok-2,bob', // 3: platform missing
        'tok-3,"bad"x,ios', // 4: not CSV
        'tok-4,carol,web', // 5: unknown platform
        '', // 6: blank lines are skipped
        'tok-5,dave,ios,1005', // 7
        'tok 6,erin,android,1.5', // 8: two bad fields
        'tok-refused,frank,android', // 9: TPNS answers 1008006
        'tok-7,gina,ios,0,extra', // 10: one column too many
      ].join('\n'),
    );

    const run = await runCliProcess(['import', file, '--json'], world.env);
    expect(run.code).toBe(1);
    expect(summaryOf(run.stdout)).toMatchObject({ lines: 8, bound: 2, invalid: 5, failed: 1, failuresFile: `${file}.failures.jsonl` });
    for (const [line, problem] of [
      [3, 'platform: is required'],
      [4, 'not valid CSV'],
      [5, 'platform: must be "android" or "ios"'],
      [8, 'token: must be printable ASCII without spaces; accountType: must be an integer'],
      [9, '1008006'],
      [10, 'has 5 columns, the header has 4'],
    ] as const) {
      expect(run.stderr).toContain(`line ${line}: `);
      expect(run.stderr.split('\n').find((text) => text.startsWith(`line ${line}: `))).toContain(problem);
    }
    expect(world.emulator.accountsOf('android', 'tok-1')).toEqual([{ account: 'alice', accountType: 0 }]);
    expect(world.emulator.accountsOf('ios', 'tok-5')).toEqual([{ account: 'dave', accountType: 1005 }]);

    const failures = await readFailures(`${file}.failures.jsonl`);
    expect(failures.map(({ line, code }) => [line, code])).toEqual([
      [3, 'INVALID_LINE'],
      [4, 'INVALID_LINE'],
      [5, 'INVALID_LINE'],
      [8, 'INVALID_LINE'],
      [10, 'INVALID_LINE'],
      [9, '1008006'],
    ]);
    expect(failures.find((failure) => failure.line === 9)).toMatchObject({ token: 'tok-refused', account: 'frank', platform: 'android' });

    // The operator fixes the bad lines and TPNS accepts the token again: the failures file re-runs as it is.
    world.emulator.setInvalidTokens([]);
    const fixed = failures.map((failure) =>
      failure.line === 9 ? failure : { token: `fixed-${failure.line}`, account: 'henry', platform: 'ios', line: failure.line },
    );
    const rerunFile = await world.file('mixed.csv.failures.jsonl', fixed.map((failure) => JSON.stringify(failure)).join('\n'));
    const rerun = await runCliProcess(['import', rerunFile, '--json', '--quiet'], world.env);
    expect(rerun.code).toBe(0);
    expect(summaryOf(rerun.stdout)).toMatchObject({ lines: 6, bound: 6, invalid: 0, failed: 0 });
    expect(world.emulator.accountsOf('android', 'tok-refused')).toEqual([{ account: 'frank', accountType: 0 }]);
    await expect(stat(`${rerunFile}.failures.jsonl`)).rejects.toThrow(); // nothing failed: no failures file
  });

  it('imports JSONL, honouring accountType, with the failures file where --failures says', async () => {
    const file = await world.file(
      'users.jsonl',
      [
        JSON.stringify({ token: 'j-1', account: 'ivy', platform: 'android' }),
        JSON.stringify({ token: 'j-2', account: '+8613800000000', platform: 'ios', accountType: 1002 }),
        '{"token": "j-3", "account": ',
        JSON.stringify(['j-4', 'jack', 'ios']),
      ].join('\n'),
    );
    const failuresFile = join(world.dir, 'custom-failures.jsonl');
    const run = await runCliProcess(['import', file, '--failures', failuresFile, '--json'], world.env);
    expect(run.code).toBe(1);
    expect(summaryOf(run.stdout)).toMatchObject({ lines: 4, bound: 2, invalid: 2, failuresFile });
    expect(world.emulator.accountsOf('ios', 'j-2')).toEqual([{ account: '+8613800000000', accountType: 1002 }]);
    expect((await readFailures(failuresFile)).map(({ line, reason }) => [line, reason.split(' (')[0]])).toEqual([
      [3, 'not valid JSON'],
      [4, 'not a JSON object'],
    ]);
  });

  it('--dry-run validates every line and makes no TPNS call at all', async () => {
    const file = await world.file('dry.csv', 'token,account,platform\ndry-1,alice,android\ndry-2,x,ios\ndry-3,bob,ios\n');
    const run = await runCliProcess(['import', file, '--dry-run', '--json'], world.env);
    expect(run.code).toBe(1);
    expect(summaryOf(run.stdout)).toMatchObject({ lines: 3, valid: 2, invalid: 1 });
    expect(run.stderr).toContain('line 3: INVALID_LINE: account: must be at least 2 characters');
    expect(world.emulator.requests()).toEqual([]);
  });

  it('keeps the file order for a token that appears in two chunks in flight at once: the later line wins', async () => {
    // Line 2 binds `shared` to old-owner, line 62 (a later chunk) to new-owner; the first chunk is slowed down.
    const lines = Array.from({ length: 80 }, (_, index) =>
      index === 0 ? 'shared,old-owner,android' : index === 60 ? 'shared,new-owner,android' : `order-${index},user-${index},android`,
    );
    const file = await world.file('order.csv', ['token,account,platform', ...lines].join('\n'));
    world.emulator.injectFault({ kind: 'latency', count: 1, latencyMs: 500, path: 'batchoperate' });
    const run = await runCliProcess(['import', file, '--json', '--concurrency', '4'], world.env);
    expect(run.code).toBe(0);
    expect(world.emulator.accountsOf('android', 'shared')).toEqual([{ account: 'new-owner', accountType: 0 }]);
  });

  it('rides out transient TPNS failures (HTTP 500, 1008028) without losing a line', async () => {
    const file = await generate('transient.csv', 'token,account,platform', 200, (index) => `tr-${index},user-${index},ios`);
    world.emulator.injectFault({ kind: 'http500', count: 2 });
    world.emulator.injectFault({ kind: 'rate-limit', count: 2, retryAfterSeconds: 0 });
    const run = await runCliProcess(['import', file, '--json'], world.env);
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ lines: 200, bound: 200, failed: 0 });
    expect(world.emulator.state('ios').tokens).toHaveLength(200);
    expect(world.emulator.counters().byFault).toMatchObject({ http500: 2, 'rate-limit': 2 });
  });

  it('stops with exit 2 when the credentials are refused, instead of failing every line', async () => {
    const file = await generate('auth.csv', 'token,account,platform', 500, (index) => `au-${index},user-${index},android`);
    const run = await runCliProcess(['import', file, '--json', '--quiet'], { ...world.env, TPNS_ANDROID_SECRET_KEY: 'wrong-key' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: /m);
    expect(summaryOf(run.stdout).stoppedAfterLine).toBeLessThan(500);
    expect(world.emulator.requests().length).toBeLessThan(10);
  });

  it('a stopped import says to re-run the whole file, not the failures file (which lacks the lines never sent)', async () => {
    const file = await generate('auth-text.csv', 'token,account,platform', 50, (index) => (index === 0 ? 'bad token,user-0,android' : `at-${index},user-${index},android`));
    const run = await runCliProcess(['import', file, '--quiet'], { ...world.env, TPNS_ANDROID_SECRET_KEY: 'wrong-key' });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain(`stopped: fix the cause and re-run the whole file (binding is idempotent): tpns-accounts import ${file}`);
    expect(run.stdout).not.toMatch(/fix them and re-run/);
  });

  it.each([
    ['a CSV header without the required columns', 'bad-header.csv', 'token,user,platform\nt1,alice,ios\n', /CSV header on line 1 must be token,account,platform\[,accountType\]: missing account; unknown user/],
    ['a file of unknown format', 'bindings.txt', 't1,alice,ios\n', /Cannot tell the format of .*bindings\.txt/],
    ['an empty CSV (no header: a truncated export must not pass)', 'empty.csv', '', /CSV header on line 1 must be token,account,platform\[,accountType\]: the file has no lines/],
  ])('exits 2 for %s', async (_name, name, content, message) => {
    const run = await runCliProcess(['import', await world.file(name, content)], world.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(world.emulator.requests()).toEqual([]);
  });

  it('exits 2 for a missing file', async () => {
    const run = await runCliProcess(['import', join(world.dir, 'nope.csv')], world.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Cannot read ".*nope\.csv": no such file/);
  });

  it('exits 2, leaving the input untouched, when --failures names the input file', async () => {
    const content = 'token,account,platform\nt1,alice,ios\n';
    const file = await world.file('self.csv', content);
    const run = await runCliProcess(['import', file, '--failures', file], world.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--failures must not be the input file');
    expect(await readFile(file, 'utf8')).toBe(content);
    expect(world.emulator.requests()).toEqual([]);
  });
});

describe('import at scale (memory stays flat)', () => {
  it('binds a 50 000-line file completely, in bounded memory', { timeout: 180_000 }, async () => {
    const lines = 50_000;
    const file = await generate('50k.csv', 'token,account,platform', lines, (index) => `big-${index},user-${index},${index % 2 ? 'ios' : 'android'}`);
    const run = await runCliProcess(['--stats', 'import', file, '--json'], world.env);
    expect(run.stderr).not.toMatch(/^line /m);
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ lines, bound: lines, invalid: 0, failed: 0 });
    expect(world.emulator.state('android').tokens).toHaveLength(lines / 2);
    expect(world.emulator.state('ios').tokens).toHaveLength(lines / 2);
    expect(world.emulator.accountsOf('ios', 'big-49999')).toEqual([{ account: 'user-49999', accountType: 0 }]);
    expect(world.emulator.counters().requests).toBe(lines / 20);
    // Node 24's V8 grows its young generation to 2 x 64 MB under this allocation rate; the live heap
    // stays near 20 MB (measured with forced GCs). Buffering the work would grow past this bound.
    expect(peakRssMb(run)).toBeLessThan(300);
  });

  it('validates a 1 000 000-line file in well under 200 MB (the file is ~60 MB)', { timeout: 180_000 }, async () => {
    const lines = 1_000_000;
    const file = await generate('1m.jsonl', undefined, lines, (index) =>
      JSON.stringify({ token: `m-${index}`, account: `member-${index}`, platform: index % 2 ? 'ios' : 'android' }),
    );
    const run = await runCliProcess(['--stats', 'import', file, '--dry-run', '--json'], world.env);
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ lines, valid: lines, invalid: 0 });
    expect(peakRssMb(run)).toBeLessThan(200);
  });
});
