/**
 * `import --via-queue` against the test stack: every line recorded in the intent ledger (dynalite)
 * and its token queued as a push key (fauxqs), nothing sent to TPNS by the CLI; then the worker
 * pushes what was recorded and reads it back. Configuration errors exit 2 naming the variable.
 */
import { describe, expect, it } from 'vitest';
import { keyMessageSchema } from '../../lib/queue/messages.js';
import type { KeyMessage } from '../../lib/queue/messages.js';
import { generateFile, runCliProcess, useCliWorld, without } from './harness.js';
import type { CliWorld } from './harness.js';

let world: CliWorld;
useCliWorld((started) => (world = started));

interface Summary {
  lines: number;
  queued?: number;
  invalid: number;
  failed: number;
  stoppedAfterLine?: number;
}

const summaryOf = (stdout: string): Summary => JSON.parse(stdout) as Summary;
/** The stack's environment without TPNS: `--via-queue` needs no TPNS credentials. */
const noTpns = () => without(world.env, ...Object.keys(world.tpnsEnv));
const queuedMessages = async (): Promise<KeyMessage[]> =>
  (await world.stack.sqs.messages('binding')).map(({ body }) => keyMessageSchema.parse(JSON.parse(body)));
const tokenKeys = (messages: readonly KeyMessage[], prefix: string): string[] =>
  messages.flatMap((message) => ('keys' in message ? message.keys : [])).flatMap((key) => (key.kind === 'token' && key.token.startsWith(prefix) ? [`${key.platform}:${key.token}`] : []));

describe('import --via-queue', () => {
  it('records every line in the ledger and queues its tokens as push keys, at most 20 per message, without calling TPNS', { timeout: 60_000 }, async () => {
    const file = await generateFile(world.dir, 'queue.csv', 'token,account,platform,accountType', 450, (index) =>
      `q-${index},user-${index},${index < 300 ? 'android' : 'ios'},${index % 3}`,
    );
    const run = await runCliProcess(['import', file, '--via-queue', '--json', '--quiet'], noTpns());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ lines: 450, queued: 450, invalid: 0, failed: 0 });
    expect(world.emulator.requests()).toEqual([]);

    // The ledger holds each line's intent, pending until the worker pushed and read it back...
    const record = await world.ledger.getToken({ platform: 'ios', token: 'q-301' });
    expect(record).toMatchObject({ platform: 'ios', token: 'q-301', state: 'pending', entries: [{ account: 'user-301', accountType: 1 }] });
    expect(await world.ledger.getToken({ platform: 'android', token: 'q-301' })).toBeUndefined();
    const records = await world.ledger.getTokens(Array.from({ length: 450 }, (_, index) => ({ platform: index < 300 ? 'android' : 'ios', token: `q-${index}` })));
    expect(records.size).toBe(450);
    // ...and the account index that account deletions and GET /v1/me/devices read.
    expect(await world.ledger.tokensOfAccount({ account: 'user-301', accountType: 1 })).toEqual([{ platform: 'ios', token: 'q-301' }]);

    // The queue holds push keys (never operations), in messages of at most one TPNS call.
    const messages = await queuedMessages();
    const imported = messages.filter((message) => message.correlationId.startsWith('cli-import:'));
    expect(imported.length).toBeGreaterThanOrEqual(450 / 20);
    expect(imported.every((message) => message.phase === 'push' && message.keys.length <= 20 && message.keys.every((key) => key.kind === 'token'))).toBe(true);
    const keys = tokenKeys(imported, 'q-');
    expect(new Set(keys).size).toBe(450);
    expect(keys).toContain('ios:q-301');
    expect(keys).toContain('android:q-0');
  });

  it('queues a file of a few lines too: nothing is pushed from the CLI, whatever the size', async () => {
    const file = await world.file('few.csv', 'token,account,platform\nfew-1,alice-few,android\nfew-2,bob-few,ios\n');
    const run = await runCliProcess(['import', file, '--via-queue', '--json'], noTpns());
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ lines: 2, queued: 2, failed: 0 });
    expect(world.emulator.requests()).toEqual([]);
    expect(tokenKeys(await queuedMessages(), 'few-').sort()).toEqual(['android:few-1', 'ios:few-2']);
    expect(await world.ledger.getToken({ platform: 'ios', token: 'few-2' })).toMatchObject({ entries: [{ account: 'bob-few', accountType: 0 }] });
  });

  it('is pushed by the worker: TPNS ends with every line, the later line of a token winning, each read back and verified', { timeout: 60_000 }, async () => {
    // vq-shared is on line 2 (first android chunk of 200) and on line 252 (the second chunk).
    const file = await generateFile(world.dir, 'pushed.csv', 'token,account,platform', 260, (index) =>
      index === 0 ? 'vq-shared,old-owner,android' : index === 250 ? 'vq-shared,new-owner,android' : `vq-${index},vq-user-${index},${index % 5 === 0 ? 'ios' : 'android'}`,
    );
    const run = await runCliProcess(['import', file, '--via-queue', '--json', '--quiet'], noTpns());
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ lines: 260, queued: 260 });
    expect((await world.ledger.getToken({ platform: 'android', token: 'vq-shared' }))?.entries).toMatchObject([{ account: 'new-owner' }]);

    await world.stack.startWorker();
    await world.stack.quiesce();
    expect(world.emulator.accountsOf('android', 'vq-shared')).toEqual([{ account: 'new-owner', accountType: 0 }]);
    for (const index of [1, 5, 137, 199, 259]) {
      const platform = index % 5 === 0 ? 'ios' : 'android';
      expect(world.emulator.accountsOf(platform, `vq-${index}`), `vq-${index}`).toEqual([{ account: `vq-user-${index}`, accountType: 0 }]);
    }
    // 210 Android lines (vq-shared twice) and 50 iOS lines (every 5th, but for the shared token's lines).
    expect(world.emulator.state('android').tokens.filter((entry) => entry.token.startsWith('vq-'))).toHaveLength(209);
    expect(world.emulator.state('ios').tokens.filter((entry) => entry.token.startsWith('vq-'))).toHaveLength(50);
    const records = await world.ledger.getTokens([{ platform: 'android', token: 'vq-shared' }, { platform: 'ios', token: 'vq-5' }, { platform: 'android', token: 'vq-259' }]);
    expect([...records.values()].map((record) => record.state)).toEqual(['verified', 'verified', 'verified']);
    // The worker coalesced the keys (this file's and the earlier tests') into TPNS calls of up to 20 tokens, not one call per line.
    const binds = world.emulator.requests().filter((entry) => entry.path.endsWith('batchoperate') && entry.operatorType === 2);
    const pushed = binds.reduce((sum, entry) => sum + (entry.items ?? 0), 0);
    expect(pushed).toBeGreaterThanOrEqual(260 - 1);
    expect(binds.length).toBeLessThan(pushed / 10);
  });
});

describe('import --via-queue: configuration', () => {
  it.each([
    ['BINDING_QUEUE_URL', /--via-queue needs BINDING_QUEUE_URL set to the binding queue URL/],
    ['BINDINGS_TABLE', /--via-queue needs BINDINGS_TABLE set to the intent ledger table/],
    ['ERASURE_KEY', /--via-queue needs ERASURE_KEY_PARAM \(.*\) or ERASURE_KEY/],
    ['AWS_REGION', /--via-queue needs AWS_REGION/],
  ])('exits 2 naming %s when it is missing, and records and sends nothing', async (variable, message) => {
    const file = await world.file(`no-${variable}.csv`, `token,account,platform\ncfg-${variable},alice,ios\n`);
    const run = await runCliProcess(['import', file, '--via-queue', '--json'], without(world.env, variable));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
    expect(await world.ledger.getToken({ platform: 'ios', token: `cfg-${variable}` })).toBeUndefined();
    expect(world.emulator.requests()).toEqual([]);
  });

  it('exits 2 for a BINDING_QUEUE_URL that is not a URL', async () => {
    const file = await world.file('bad-url.csv', 'token,account,platform\ncfg-url,alice,ios\n');
    const run = await runCliProcess(['import', file, '--via-queue'], { ...world.env, BINDING_QUEUE_URL: 'tpns-binding' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--via-queue needs BINDING_QUEUE_URL');
  });

  it('stops with exit 1 and says after which line when the ledger does not answer; a re-run records everything', { timeout: 60_000 }, async () => {
    const file = await world.file('ledger-down.csv', ['token,account,platform', ...Array.from({ length: 5 }, (_, index) => `down-${index},down-user-${index},android`)].join('\n'));
    const fault = world.stack.dynamo.faults.add({ kind: 'InternalServerError' });
    try {
      const run = await runCliProcess(['import', file, '--via-queue', '--json', '--quiet'], world.env);
      expect(run.code).toBe(1);
      expect(summaryOf(run.stdout).stoppedAfterLine).toBeDefined();
      expect(run.stderr).toMatch(/^error: The intent ledger \(DynamoDB\) did not answer.*nothing after the reported line was recorded or queued; re-run the import/m);
    } finally {
      world.stack.dynamo.faults.remove(fault.id);
    }
    const rerun = await runCliProcess(['import', file, '--via-queue', '--json', '--quiet'], world.env);
    expect(rerun.code).toBe(0);
    expect(summaryOf(rerun.stdout)).toMatchObject({ lines: 5, queued: 5 });
    expect((await world.ledger.getTokens(Array.from({ length: 5 }, (_, index) => ({ platform: 'android', token: `down-${index}` })))).size).toBe(5);
  });
});
