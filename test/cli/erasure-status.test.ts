/**
 * `tpns-accounts erasure-status` against the test stack: the receipt a real deletion (the
 * delete-account handler) left in the ledger, applied and then verified once the worker read TPNS
 * back; exit 3 when there is none; configuration errors exit 2 naming the variable.
 */
import { describe, expect, it } from 'vitest';
import { handler as deleteAccount } from '../../functions/delete-account.js';
import { handler as query } from '../../functions/query.js';
import { httpEvent, httpSignIn, invokeHttp } from '../integration/functions/harness.js';
import { runCliProcess, useCliWorld, without } from './harness.js';
import type { CliWorld } from './harness.js';

let world: CliWorld;
useCliWorld((started) => (world = started));

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const receiptOverHttp = (account: string) =>
  invokeHttp(query, httpEvent('GET /v1/admin/erasures/{account}', { account: 'ops-admin', scope: 'tpns/admin', pathParameters: { account } }));

interface Receipt {
  account: string;
  accountType: number;
  requestedAt: string;
  state: string;
  apps: Record<string, { appliedAt?: string; verifiedAt?: string }>;
}

describe('erasure-status', () => {
  it('shows the receipt of a deletion made through the delete-account handler: applied at once, verified after the read-back', async () => {
    expect((await httpSignIn('erase-cli-1', 'erase-cli-android-1', 'android')).statusCode).toBe(200);
    expect((await httpSignIn('erase-cli-1', 'erase-cli-iphone-1', 'ios')).statusCode).toBe(200);
    const deletion = await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'erase-cli-1' }));
    expect(deletion).toMatchObject({ statusCode: 200, body: { applied: 2, failed: [] } });
    world.emulator.reset(); // from here on: the CLI's own TPNS calls (none expected)

    const applied = await runCliProcess(['erasure-status', '--account', 'erase-cli-1', '--json'], world.env);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const before = JSON.parse(applied.stdout) as Receipt;
    expect(before).toMatchObject({
      account: 'erase-cli-1',
      accountType: 0,
      state: 'applied',
      requestedAt: expect.stringMatching(ISO),
      apps: { android: { appliedAt: expect.stringMatching(ISO) }, ios: { appliedAt: expect.stringMatching(ISO) } },
    });
    expect(before.apps.android?.verifiedAt).toBeUndefined();

    await world.stack.startWorker();
    await world.stack.quiesce();
    const verified = await runCliProcess(['erasure-status', '--account', 'erase-cli-1', '--json'], world.env);
    expect(verified.code).toBe(0);
    const after = JSON.parse(verified.stdout) as Receipt;
    expect(after).toMatchObject({ state: 'verified', requestedAt: before.requestedAt });
    for (const app of ['android', 'ios']) {
      expect(after.apps[app]).toEqual({ appliedAt: before.apps[app]?.appliedAt, verifiedAt: expect.stringMatching(ISO) });
    }
    // The same receipt the admin API answers.
    const { accountType: _type, ...asHttp } = after;
    expect((await receiptOverHttp('erase-cli-1')).body).toEqual(asHttp);

    const table = await runCliProcess(['erasure-status', '--account', 'erase-cli-1'], world.env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toBe(`erase-cli-1 (type 0): verified, requested ${after.requestedAt}`);
    expect(lines[1]).toMatch(/^APP\s+STATE\s+REQUESTEDAT\s+APPLIEDAT\s+VERIFIEDAT$/);
    expect(lines.slice(2)).toEqual(
      ['android', 'ios'].map((app) => expect.stringMatching(new RegExp(`^${app}\\s+verified\\s+${after.requestedAt}\\s+${after.apps[app]?.appliedAt}\\s+${after.apps[app]?.verifiedAt}$`))),
    );
  });

  it('reads the ledger only: no TPNS call, no TPNS credentials needed', async () => {
    await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'erase-cli-2' }));
    // The worker's read-back of the deletion is TPNS traffic too: let it finish first.
    await world.stack.startWorker();
    await world.stack.quiesce();
    world.emulator.reset();
    const run = await runCliProcess(['erasure-status', '--account', 'erase-cli-2'], without(world.env, ...Object.keys(world.tpnsEnv)));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^erase-cli-2 \(type 0\): verified, requested /);
    expect(world.emulator.requests()).toEqual([]);
  });

  it('finds an account type\'s receipt with --account-type (or --type), and only that one', async () => {
    const account = 'erase-cli-3@example.com';
    const bulk = await invokeHttp(
      deleteAccount,
      httpEvent('POST /v1/admin/delete-accounts', { account: 'ops-admin', scope: 'tpns/admin', body: { accounts: [{ account, accountType: 1005 }] } }),
    );
    expect(bulk.statusCode).toBe(200);
    const typed = await runCliProcess(['erasure-status', '--account', account, '--account-type', '1005', '--json'], world.env);
    expect(typed.code).toBe(0);
    expect(JSON.parse(typed.stdout)).toMatchObject({ account, accountType: 1005, state: expect.stringMatching(/^(applied|verified)$/) });
    expect((await runCliProcess(['erasure-status', '--account', account, '--type', '1005'], world.env)).code).toBe(0);
    const untyped = await runCliProcess(['erasure-status', '--account', account], world.env);
    expect(untyped.code).toBe(3);
    expect(untyped.stderr).toContain(`${account} (type 0): no erasure receipt`);
  });

  it('exits 3 with "no erasure receipt" for an account that was never deleted, as text and as JSON', async () => {
    const text = await runCliProcess(['erasure-status', '--account', 'never-deleted-1'], world.env);
    expect(text.code).toBe(3);
    expect(text.stdout).toBe('');
    expect(text.stderr).toBe('never-deleted-1 (type 0): no erasure receipt (never deleted, or expired after ERASURE_RETENTION_DAYS)\n');
    const json = await runCliProcess(['erasure-status', '--account', 'never-deleted-1', '--json'], world.env);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toEqual({ account: 'never-deleted-1', accountType: 0, error: expect.stringContaining('no erasure receipt') });
  });

  it('finds no receipt under another ERASURE_KEY: receipts are keyed by an HMAC of the account', async () => {
    await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'erase-cli-4' }));
    expect((await runCliProcess(['erasure-status', '--account', 'erase-cli-4'], world.env)).code).toBe(0);
    const other = await runCliProcess(['erasure-status', '--account', 'erase-cli-4'], { ...world.env, ERASURE_KEY: 'not-the-deployment-key' });
    expect(other.code).toBe(3);
  });
});

describe('erasure-status: usage and configuration', () => {
  it.each([
    ['BINDINGS_TABLE', /erasure-status needs BINDINGS_TABLE set to the intent ledger table/],
    ['ERASURE_KEY', /erasure-status needs ERASURE_KEY_PARAM \(.*\) or ERASURE_KEY/],
    ['AWS_REGION', /erasure-status needs AWS_REGION/],
  ])('exits 2 naming %s when it is missing', async (variable, message) => {
    const run = await runCliProcess(['erasure-status', '--account', 'alice'], without(world.env, variable));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('the ledger unreachable: exit 1, and the error names the cause, not only the SDK error class', async () => {
    const run = await runCliProcess(['erasure-status', '--account', 'alice'], { ...world.env, AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: The intent ledger \(DynamoDB\) did not answer: \w*Error: .*ECONNREFUSED 127\.0\.0\.1:1/m);
  });

  it('exits 2 for a blank ERASURE_KEY too, rather than keying with the development key', async () => {
    const run = await runCliProcess(['erasure-status', '--account', 'alice'], { ...without(world.env, 'ERASURE_KEY'), ERASURE_KEY: ' ' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/erasure-status needs ERASURE_KEY_PARAM \(.*\) or ERASURE_KEY/);
  });

  it.each([
    ['no --account', ['erasure-status'], /required option '--account <account>' not specified/],
    ['a one-character account', ['erasure-status', '--account', 'a'], /--account.*at least 2 characters/],
    ['a non-integer account type', ['erasure-status', '--account', 'alice', '--account-type', 'x'], /--account-type.*must be an integer/],
    ['two different account types', ['erasure-status', '--account', 'alice', '--account-type', '1', '--type', '2'], /--account-type and --type name two different account types/],
  ])('exits 2 for %s', async (_name, args, message) => {
    const run = await runCliProcess(args, world.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
