import { describe, expect, it } from 'vitest';
import { runCliProcess, useCliWorld } from './harness.js';
import type { CliWorld } from './harness.js';

let world: CliWorld;
useCliWorld((started) => (world = started));

describe('bind', () => {
  it('binds a token to an account and prints the outcome', async () => {
    const run = await runCliProcess(['bind', '--token', 'tok-a1', '--account', 'alice', '--platform', 'android'], world.env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^android\s+tok-a1\s+ok/m);
    expect(world.emulator.accountsOf('android', 'tok-a1')).toEqual([{ account: 'alice', accountType: 0 }]);
    expect(world.emulator.accountsOf('ios', 'tok-a1')).toEqual([]);
  });

  it('overwrites the account of the same type, with --type and --json', async () => {
    await runCliProcess(['bind', '--token', 'tok-a1', '--account', 'alice', '--platform', 'ios', '--type', '1005'], world.env);
    const run = await runCliProcess(['bind', '--token', 'tok-a1', '--account', 'bob', '--platform', 'ios', '--type', '1005', '--json'], world.env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ results: [{ platform: 'ios', applied: 1, failed: [] }] });
    expect(world.emulator.accountsOf('ios', 'tok-a1')).toEqual([{ account: 'bob', accountType: 1005 }]);
  });

  it('exits 1 and names the code when TPNS refuses the item', async () => {
    world.emulator.setInvalidTokens(['tok-dead']);
    const run = await runCliProcess(['bind', '--token', 'tok-dead', '--account', 'alice', '--platform', 'android', '--json'], world.env);
    expect(run.code).toBe(1);
    const { results } = JSON.parse(run.stdout) as { results: { applied: number; failed: { token: string; code: string }[] }[] };
    expect(results[0]).toMatchObject({ applied: 0, failed: [{ token: 'tok-dead', code: '1008006' }] });
  });
});

describe('query', () => {
  it('lists the tokens of an account on every platform, as a table and as JSON', async () => {
    await runCliProcess(['bind', '--token', 'tok-q1', '--account', 'carol', '--platform', 'android'], world.env);
    await runCliProcess(['bind', '--token', 'tok-q2', '--account', 'carol', '--platform', 'ios'], world.env);

    const table = await runCliProcess(['query', '--account', 'carol'], world.env);
    expect(table.code).toBe(0);
    expect(table.stdout.trim().split('\n')).toEqual([
      'PLATFORM  ACCOUNT  TYPE  TOKEN',
      'android   carol    0     tok-q1',
      'ios       carol    0     tok-q2',
    ]);

    const json = await runCliProcess(['query', '--account', 'carol', '--json'], world.env);
    expect(JSON.parse(json.stdout)).toEqual({
      accounts: [
        { platform: 'android', account: 'carol', accountType: 0, tokens: ['tok-q1'] },
        { platform: 'ios', account: 'carol', accountType: 0, tokens: ['tok-q2'] },
      ],
    });
  });

  it('lists the accounts of a token, showing (none) where nothing is bound', async () => {
    await runCliProcess(['bind', '--token', 'tok-q3', '--account', 'dave', '--platform', 'android', '--type', '1002'], world.env);
    const table = await runCliProcess(['query', '--token', 'tok-q3'], world.env);
    expect(table.stdout).toMatch(/^android\s+tok-q3\s+dave\s+1002$/m);
    expect(table.stdout).toMatch(/^ios\s+tok-q3\s+\(none\)$/m);

    const json = await runCliProcess(['query', '--token', 'tok-q3', '--json'], world.env);
    expect(JSON.parse(json.stdout)).toEqual({
      tokens: [
        { platform: 'android', token: 'tok-q3', accounts: [{ account: 'dave', accountType: 1002 }] },
        { platform: 'ios', token: 'tok-q3', accounts: [] },
      ],
    });
  });

  it('--endpoint overrides TPNS_ENDPOINT', async () => {
    await runCliProcess(['bind', '--token', 'tok-q4', '--account', 'erin', '--platform', 'android'], world.env);
    const env = { ...world.env, TPNS_ENDPOINT: 'http://127.0.0.1:9' }; // nothing listens on the discard port
    const run = await runCliProcess(['query', '--token', 'tok-q4', '--json', '--endpoint', world.emulator.url], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).tokens[0].accounts).toEqual([{ account: 'erin', accountType: 0 }]);
  });
});

describe('unbind-token and delete-account', () => {
  it('unbind-token removes every account from the token', async () => {
    await runCliProcess(['bind', '--token', 'tok-u1', '--account', 'frank', '--platform', 'ios'], world.env);
    const run = await runCliProcess(['unbind-token', '--token', 'tok-u1', '--platform', 'ios'], world.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ios\s+tok-u1\s+ok/m);
    expect(world.emulator.accountsOf('ios', 'tok-u1')).toEqual([]);
  });

  it('delete-account removes the account from every token on both platforms', async () => {
    await runCliProcess(['bind', '--token', 'tok-d1', '--account', 'gina', '--platform', 'android'], world.env);
    await runCliProcess(['bind', '--token', 'tok-d2', '--account', 'gina', '--platform', 'ios'], world.env);
    const run = await runCliProcess(['delete-account', '--account', 'gina', '--json'], world.env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      results: [
        { platform: 'android', applied: 1, failed: [] },
        { platform: 'ios', applied: 1, failed: [] },
      ],
    });
    expect(world.emulator.tokensOf('android', 'gina')).toEqual([]);
    expect(world.emulator.tokensOf('ios', 'gina')).toEqual([]);
  });

  it('delete-account with one app refusing the credentials still reports the app that erased the account (exit 2)', async () => {
    await runCliProcess(['bind', '--token', 'tok-d4', '--account', 'ivan', '--platform', 'android'], world.env);
    await runCliProcess(['bind', '--token', 'tok-d5', '--account', 'ivan', '--platform', 'ios'], world.env);
    const run = await runCliProcess(['delete-account', '--account', 'ivan', '--json'], { ...world.env, TPNS_ANDROID_SECRET_KEY: 'wrong-key' });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({ results: [{ platform: 'ios', applied: 1, failed: [] }] });
    expect(run.stderr).toMatch(/^error: TPNS 1008003.*android.*\(applied on ios, as printed; re-run once fixed: op 5 is idempotent\)$/m);
    expect(world.emulator.tokensOf('ios', 'ivan')).toEqual([]);
    expect(world.emulator.tokensOf('android', 'ivan')).toEqual(['tok-d4']);
  });

  it('delete-account covers only the configured platforms', async () => {
    await runCliProcess(['bind', '--token', 'tok-d3', '--account', 'hank', '--platform', 'ios'], world.env);
    const { TPNS_IOS_ACCESS_ID: _id, TPNS_IOS_SECRET_KEY: _key, ...androidOnly } = world.env;
    const run = await runCliProcess(['delete-account', '--account', 'hank', '--json'], androidOnly);
    expect(JSON.parse(run.stdout).results.map((result: { platform: string }) => result.platform)).toEqual(['android']);
    expect(world.emulator.tokensOf('ios', 'hank')).toEqual(['tok-d3']);
  });
});

describe('usage and configuration errors exit 2 with a clear message and send nothing', () => {
  const cases: [string, string[], RegExp][] = [
    ['a missing required option', ['bind', '--token', 't1', '--account', 'alice'], /required option '--platform <platform>' not specified/],
    ['an unknown platform', ['bind', '--token', 't1', '--account', 'alice', '--platform', 'web'], /--platform.*Allowed choices are android, ios/],
    ['a token TPNS would refuse', ['bind', '--token', 'has space', '--account', 'alice', '--platform', 'ios'], /--token.*printable ASCII/],
    ['a one-character account', ['delete-account', '--account', 'a'], /--account.*at least 2 characters/],
    ['a non-integer account type', ['query', '--account', 'alice', '--type', '1.5'], /--type.*must be an integer/],
    ['query without a subject', ['query'], /query needs --account <id> or --token <token>/],
    ['--type with --token', ['query', '--token', 't1', '--type', '1'], /cannot be used with/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['an unknown option', ['query', '--acount', 'alice'], /unknown option '--acount'/],
    ['an invalid region', ['query', '--account', 'alice', '--region', 'mars'], /TPNS_REGION: must be one of/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const run = await runCliProcess(args, world.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(world.emulator.requests()).toEqual([]);
  });

  it('no credentials at all', async () => {
    const run = await runCliProcess(['query', '--account', 'alice'], { TPNS_ENDPOINT: world.emulator.url });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/No TPNS platform is configured/);
  });

  it('wrong credentials (TPNS answers authentication failed)', async () => {
    const run = await runCliProcess(['query', '--account', 'alice'], { ...world.env, TPNS_ANDROID_SECRET_KEY: 'not-the-key' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: /m);
    expect(run.stderr).not.toContain('not-the-key');
  });
});

describe('--help', () => {
  it.each(['', 'query', 'bind', 'unbind-token', 'delete-account', 'import', 'verify', 'emulator', 'redrive', 'erasure-status'])('works for "%s"', async (command) => {
    const run = await runCliProcess([...(command ? [command] : []), '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: tpns-accounts${command ? ` ${command}` : ''} `, 'm'));
  });
});
