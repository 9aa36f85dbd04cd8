/**
 * An admin bulk import through the whole stack over HTTP: the API records it in the intent ledger
 * and queues its tokens as push keys (202), the worker pushes them in TPNS-sized calls and reads
 * every one back, and the emulator ends with every binding — also when half the TPNS calls fail
 * retryably, and with a permanently invalid token that must be dead-lettered alone instead of
 * being retried forever.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoLedger } from '../../lib/ledger/dynamo-ledger.js';
import { deadLetterSchema } from '../../lib/queue/dead-letter.js';
import { adminToken, batchoperateCalls, callApi, startE2eStack, takeDeadLetters } from './support.js';
import type { E2eStack } from './support.js';

const PAIRS = 2_000;
/** TPNS binds at most 20 tokens per batchoperate call. */
const TOKENS_PER_CALL = 20;

let stack: E2eStack;
let ledger: DynamoLedger;

beforeAll(async () => {
  stack = await startE2eStack();
  ledger = new DynamoLedger({ tableName: stack.env.BINDINGS_TABLE!, erasureKey: stack.env.ERASURE_KEY!, retentionDays: 30 });
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(async () => {
  await stack.quiesce();
  stack.tpns.reset();
  await takeDeadLetters(stack);
});

const emulator = () => stack.tpns;

/** Half Android, half iOS, each token its own account. */
function pairs(prefix: string) {
  return Array.from({ length: PAIRS }, (_, index) => ({
    token: `${prefix}-tok-${index}`,
    account: `${prefix}-user-${index}`,
    platform: index % 2 === 0 ? ('android' as const) : ('ios' as const),
  }));
}

async function importAndDrain(items: ReturnType<typeof pairs>) {
  const answer = await callApi(stack, 'POST', '/v1/admin/bindings', { token: await adminToken(), body: { items } });
  expect(answer.status).toBe(202);
  expect(answer.body).toMatchObject({ queued: PAIRS, chunks: PAIRS / TOKENS_PER_CALL });
  await stack.quiesce();
}

/** The ledger's push state of every item's token. */
async function states(items: ReturnType<typeof pairs>): Promise<Record<string, number>> {
  const records = await ledger.getTokens(items);
  const counts: Record<string, number> = {};
  for (const record of records.values()) counts[record.state] = (counts[record.state] ?? 0) + 1;
  return counts;
}

function unbound(items: ReturnType<typeof pairs>) {
  return items.filter(({ token, account, platform }) => {
    const accounts = emulator().accountsOf(platform, token);
    return accounts.length !== 1 || accounts[0]?.account !== account;
  });
}

describe(`admin bulk bind of ${PAIRS} pairs`, () => {
  it(`is recorded, queued, pushed by the worker in full calls of ${TOKENS_PER_CALL} tokens, each token once, read back and verified`, { timeout: 60_000 }, async () => {
    const items = pairs('plain');
    await importAndDrain(items);

    expect(unbound(items)).toEqual([]);
    const calls = batchoperateCalls(stack);
    // Only op 2, each token pushed exactly once: nothing differed at the read-back, nothing was repaired.
    expect(calls.every((call) => call.operatorType === 2)).toBe(true);
    expect(calls.reduce((sum, call) => sum + (call.items ?? 0), 0)).toBe(PAIRS);
    // One SQS batch (100 messages gathered in the 1 s window) per platform's 1 000 tokens = 50 full calls
    // each; a batch split in two costs at most one half-full call per platform and split.
    expect(calls.length).toBeGreaterThanOrEqual(PAIRS / TOKENS_PER_CALL);
    expect(calls.length).toBeLessThanOrEqual(PAIRS / TOKENS_PER_CALL + 4);
    expect(await states(items)).toEqual({ verified: PAIRS });
    expect((await stack.sqs.depth()).deadLettered).toBe(0);
  });

  it('ends fully applied with nothing dead-lettered while half the TPNS calls fail retryably', async () => {
    // Half of the calls fail until 60 have failed: under a lasting 50% failure rate a key's retries
    // back off 1, 2, 4 ... 64 s and the unluckiest take minutes (measured: 160 s), which is the
    // backoff's job, not this test's.
    emulator().injectFault({ kind: 'http500', rate: 0.5, count: 60, seed: 20_260_101, path: 'batchoperate' });
    const items = pairs('flaky');
    await importAndDrain(items);

    expect(unbound(items)).toEqual([]);
    // The fault really bit (about half of all calls failed and were retried)...
    const calls = batchoperateCalls(stack);
    const faulted = calls.filter((call) => call.fault === 'http500').length;
    expect(faulted).toBe(60);
    expect(faulted).toBeGreaterThan(calls.length / 4);
    expect(calls.length - faulted).toBeGreaterThanOrEqual(PAIRS / TOKENS_PER_CALL);
    // ...and nothing was given up on.
    expect(await states(items)).toEqual({ verified: PAIRS });
    expect((await stack.sqs.depth()).deadLettered).toBe(0);
  }, 90_000); // a key whose push failed is queued again 1, 2, 4, 8... s later

  it('dead-letters only a permanently invalid token, with its reason, and never retries it', { timeout: 60_000 }, async () => {
    const items = pairs('mixed');
    const invalid = items[777];
    if (!invalid) throw new Error('fixture too small');
    emulator().setInvalidTokens([invalid.token]);
    await importAndDrain(items);

    expect(unbound(items)).toEqual([invalid]);
    const sentWithInvalid = batchoperateCalls(stack).filter((call) => JSON.stringify(call.body).includes(`"${invalid.token}"`));
    expect(sentWithInvalid).toHaveLength(1);

    // One letter, naming exactly the refused key (redrivable as is) and TPNS's reason.
    const dead = await takeDeadLetters(stack);
    expect(dead).toHaveLength(1);
    const letter = deadLetterSchema.parse(dead[0]);
    expect(letter.reason.code).toBe('1008006');
    expect(letter.key).toEqual({ kind: 'token', platform: invalid.platform, token: invalid.token });
    expect(await stack.sqs.depth()).toMatchObject({ queued: 0, inFlight: 0, delayed: 0 });
    // The ledger keeps the intent and says TPNS does not hold it; every other token is verified.
    expect((await ledger.getToken(invalid))?.state).toBe('drift');
    expect(await states(items)).toEqual({ verified: PAIRS - 1, drift: 1 });
  });
});
