import { describe, expect, it } from 'vitest';
import { runCliProcess, useCliWorld } from './harness.js';
import type { CliWorld } from './harness.js';

let world: CliWorld;
useCliWorld((started) => (world = started));

interface Report {
  checked: number;
  counts: Record<string, number>;
  drift: { kind: string; line: number; platform: string; token: string; expected: unknown; actual: unknown }[];
  invalid: { line: number; reason: string }[];
}

const bind = (token: string, account: string, platform: string, type = '0') =>
  runCliProcess(['bind', '--token', token, '--account', account, '--platform', platform, '--type', type], world.env);

describe('verify <expected bindings>', () => {
  it('finds each kind of drift, as JSON and as a table', async () => {
    await bind('v-ok', 'alice', 'android');
    await bind('v-other', 'carol', 'android');
    await bind('v-extra', 'dave', 'ios');
    await bind('v-extra', 'dave-phone', 'ios', '1002');
    const file = await world.file(
      'expected.csv',
      [
        'token,account,platform,accountType',
        'v-ok,alice,android', // 2: as expected
        'v-other,bob,android', // 3: bound to carol instead
        'v-extra,dave,ios,0', // 4: fine, but the token also holds a type-1002 account
        'v-missing,erin,ios', // 5: nothing bound
        'v-ok,x,android', // 6: invalid line
      ].join('\n'),
    );

    const json = await runCliProcess(['verify', file, '--json'], world.env);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.checked).toBe(4);
    expect(report.counts).toEqual({ missing: 1, 'bound-to-other': 1, unexpected: 1, 'still-bound': 0 });
    expect(report.drift).toEqual([
      { kind: 'bound-to-other', line: 3, platform: 'android', token: 'v-other', expected: { account: 'bob', accountType: 0 }, actual: { account: 'carol', accountType: 0 } },
      { kind: 'unexpected', line: 4, platform: 'ios', token: 'v-extra', expected: null, actual: { account: 'dave-phone', accountType: 1002 } },
      { kind: 'missing', line: 5, platform: 'ios', token: 'v-missing', expected: { account: 'erin', accountType: 0 }, actual: null },
    ]);
    expect(report.invalid).toEqual([{ line: 6, reason: 'account: must be at least 2 characters' }]);

    const table = await runCliProcess(['verify', file], world.env);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/^bound-to-other\s+3\s+android\s+v-other\s+bob \(type 0\)\s+carol \(type 0\)$/m);
    expect(table.stdout).toMatch(/^missing\s+5\s+ios\s+v-missing\s+erin \(type 0\)\s+\(none\)$/m);
    expect(table.stdout).toContain('checked 4 lines: drift: 1 missing, 1 bound-to-other, 1 unexpected; 1 invalid lines');
    expect(table.stderr).toContain('line 6: invalid: account: must be at least 2 characters');
  });

  it('exits 0 when TPNS matches the file, e.g. right after an import of it', async () => {
    const file = await world.file(
      'import-then-verify.jsonl',
      Array.from({ length: 45 }, (_, index) => JSON.stringify({ token: `iv-${index}`, account: `user-${index}`, platform: index % 2 ? 'ios' : 'android', accountType: index % 3 })).join('\n'),
    );
    expect((await runCliProcess(['import', file, '--quiet'], world.env)).code).toBe(0);
    const run = await runCliProcess(['verify', file], world.env);
    expect(run.stdout.trim()).toBe('checked 45 lines: no drift');
    expect(run.code).toBe(0);
  });
});

describe('verify --deleted <accounts>', () => {
  it('reports every token an erased account still has, on every platform, until delete-account is run', async () => {
    await bind('d-1', 'gone-user', 'android');
    await bind('d-2', 'gone-user', 'ios');
    await bind('d-3', 'gone-phone', 'ios', '1002');
    await bind('d-4', 'kept-user', 'ios');
    const accounts = await world.file('deleted.csv', 'account,accountType\ngone-user\ngone-phone,1002\nnever-bound,0\n');

    const before = await runCliProcess(['verify', '--deleted', accounts, '--json'], world.env);
    expect(before.code).toBe(1);
    const report = JSON.parse(before.stdout) as Report;
    expect(report.counts['still-bound']).toBe(3);
    expect(report.drift.map(({ line, platform, token }) => [line, platform, token]).sort()).toEqual([
      [2, 'android', 'd-1'],
      [2, 'ios', 'd-2'],
      [3, 'ios', 'd-3'],
    ]);

    await runCliProcess(['delete-account', '--account', 'gone-user'], world.env);
    await runCliProcess(['delete-account', '--account', 'gone-phone', '--type', '1002'], world.env);
    const after = await runCliProcess(['verify', '--deleted', accounts], world.env);
    expect(after.stdout.trim()).toBe('checked 3 lines: no drift');
    expect(after.code).toBe(0);
    expect(world.emulator.tokensOf('ios', 'kept-user')).toEqual(['d-4']);
  });
});

describe('verify usage', () => {
  it.each([
    ['neither a file nor --deleted', []],
    ['both a file and --deleted', ['a.csv', '--deleted', 'b.csv']],
  ])('exits 2 with %s', async (_name, args) => {
    const run = await runCliProcess(['verify', ...args], world.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('verify needs exactly one of <file> (expected bindings) or --deleted <file> (accounts)');
  });
});
