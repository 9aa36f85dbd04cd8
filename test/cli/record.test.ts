/**
 * `bind`, `unbind-token` and `delete-account --record` against the test stack: the operation is
 * recorded in the intent ledger (dynalite) as the API's is, pushed to TPNS (the emulator), and
 * its read-back queued (fauxqs); a recorded deletion leaves its tombstone and its receipt. Without
 * --record they stay the direct TPNS repair tools the other CLI tests cover.
 */
import { describe, expect, it } from 'vitest';
import { keyMessageSchema } from '../../lib/queue/messages.js';
import { runCliProcess, useCliWorld, without } from './harness.js';
import type { CliWorld } from './harness.js';

let world: CliWorld;
useCliWorld((started) => (world = started));

const json = <T>(stdout: string) => JSON.parse(stdout) as T;
const readBacksQueuedFor = async (correlationId: string) =>
  (await world.stack.sqs.messages('binding'))
    .map(({ body }) => keyMessageSchema.parse(JSON.parse(body)))
    .filter((message) => message.correlationId === correlationId && message.phase === 'verify');

describe('--record: through the intent ledger, as the API does', () => {
  it('bind records the sign-in, binds it at TPNS and queues its read-back', async () => {
    const run = await runCliProcess(['bind', '--token', 'record-token-1', '--account', 'alice', '--platform', 'android', '--record', '--json'], world.env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const answer = json<{ applied: number; failed: unknown[]; correlationId: string }>(run.stdout);
    expect(answer).toMatchObject({ applied: 1, failed: [] });
    expect(world.emulator.accountsOf('android', 'record-token-1')).toEqual([{ account: 'alice', accountType: 0 }]);
    expect(await world.ledger.getToken({ platform: 'android', token: 'record-token-1' })).toMatchObject({ state: 'applied', entries: [{ account: 'alice', accountType: 0 }] });
    expect(await world.ledger.tokensOfAccount({ account: 'alice' })).toEqual([{ platform: 'android', token: 'record-token-1' }]);
    expect((await readBacksQueuedFor(answer.correlationId)).flatMap((message) => ('keys' in message ? message.keys : []))).toEqual([
      { kind: 'token', platform: 'android', token: 'record-token-1' },
    ]);
  });

  it('unbind-token records the sign-out: the sign-in before it is void in the ledger, and TPNS holds no account', async () => {
    await runCliProcess(['bind', '--token', 'record-token-2', '--account', 'bob', '--platform', 'ios', '--record'], world.env);
    const run = await runCliProcess(['unbind-token', '--token', 'record-token-2', '--platform', 'ios', '--record'], world.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^recorded in the intent ledger \(cli-unbind-token:[0-9a-f-]+\): 1 applied at TPNS/);
    expect(world.emulator.accountsOf('ios', 'record-token-2')).toEqual([]);
    const record = await world.ledger.getToken({ platform: 'ios', token: 'record-token-2' });
    const clearV = record?.clearV ?? 0;
    expect(clearV).toBeGreaterThan(0);
    expect(record?.entries.map((entry) => entry.v < clearV)).toEqual([true]); // bob's sign-in, voided
  });

  it('delete-account records the erasure: op 5 on both apps, its tombstone, and a receipt erasure-status reads', async () => {
    await runCliProcess(['bind', '--token', 'record-token-3', '--account', 'carol', '--platform', 'android', '--record'], world.env);
    const run = await runCliProcess(['delete-account', '--account', 'carol', '--record', '--json'], world.env);
    expect(run.code).toBe(0);
    expect(json(run.stdout)).toMatchObject({ applied: 2, failed: [] }); // the Android and the iOS app
    expect(world.emulator.accountsOf('android', 'record-token-3')).toEqual([]);
    expect(await world.ledger.getTombstone({ account: 'carol' })).toBeDefined(); // a later queued sign-in of carol's cannot re-bind her
    const status = await runCliProcess(['erasure-status', '--account', 'carol', '--json'], without(world.env, ...Object.keys(world.tpnsEnv)));
    expect(status.code).toBe(0);
    expect(json(status.stdout)).toMatchObject({ account: 'carol', apps: { android: { appliedAt: expect.any(String) as string }, ios: { appliedAt: expect.any(String) as string } } });
  });

  it('the ledger down: exit 1 naming it, nothing recorded, nothing sent to TPNS (re-running is safe)', async () => {
    world.stack.dynamo.faults.add({ kind: 'InternalServerError' });
    try {
      const run = await runCliProcess(['bind', '--token', 'record-token-5', '--account', 'erin', '--platform', 'android', '--record'], world.env);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: The intent ledger \(DynamoDB\)/);
      expect(world.emulator.requests()).toEqual([]);
    } finally {
      world.stack.dynamo.faults.clear();
    }
    expect(await world.ledger.getToken({ platform: 'android', token: 'record-token-5' })).toBeUndefined();
  });

  it('credentials TPNS refuses: exit 2, and the error says the operation is recorded all the same (the worker pushes it)', async () => {
    const run = await runCliProcess(['bind', '--token', 'record-token-6', '--account', 'faye', '--platform', 'android', '--record'], { ...world.env, TPNS_ANDROID_SECRET_KEY: 'wrong-key' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: TPNS 1008003.*\(the operation IS recorded in the intent ledger, not yet pushed/m);
    expect((await world.ledger.getToken({ platform: 'android', token: 'record-token-6' }))?.entries.map((entry) => entry.account)).toEqual(['faye']);
  });

  it('names what it needs (exit 2) before anything is recorded or sent', async () => {
    const run = await runCliProcess(['bind', '--token', 'record-token-4', '--account', 'dave', '--platform', 'android', '--record'], without(world.env, 'BINDINGS_TABLE'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bind --record needs BINDINGS_TABLE/);
    expect(world.emulator.requests()).toEqual([]);
    expect(await world.ledger.getToken({ platform: 'android', token: 'record-token-4' })).toBeUndefined();
  });
});
