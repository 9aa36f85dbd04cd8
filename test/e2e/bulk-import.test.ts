/**
 * An admin bulk import through the whole local stack: the API queues it (202), the worker drains
 * the FIFO queue in TPNS-sized calls, and the emulator ends with every binding — also when half
 * the TPNS calls fail retryably, and with a permanently invalid token that must be dead-lettered
 * alone instead of being retried forever.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterSchema } from '../../lib/queue/dead-letter.js';
import type { Stack } from '../../local/stack/stack.js';
import { adminToken, batchoperateCalls, callApi, startTestStack, takeDeadLetters } from './support.js';

const PAIRS = 2_000;
/** TPNS binds at most 20 tokens per batchoperate call. */
const TOKENS_PER_CALL = 20;

let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  stack.emulator?.reset();
  await takeDeadLetters(stack);
});

const emulator = () => {
  if (!stack.emulator) throw new Error('these tests need the TPNS emulator (unset TPNS_* credentials)');
  return stack.emulator;
};

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
  await stack.worker.drained();
}

function unbound(items: ReturnType<typeof pairs>) {
  return items.filter(({ token, account, platform }) => {
    const accounts = emulator().accountsOf(platform, token);
    return accounts.length !== 1 || accounts[0]?.account !== account;
  });
}

describe(`admin bulk bind of ${PAIRS} pairs`, () => {
  it(`is queued, drained by the worker in exactly ${PAIRS / TOKENS_PER_CALL} batchoperate calls, and all bound`, async () => {
    const items = pairs('plain');
    await importAndDrain(items);

    expect(unbound(items)).toEqual([]);
    const calls = batchoperateCalls(stack);
    expect(calls).toHaveLength(PAIRS / TOKENS_PER_CALL);
    expect(calls.every((call) => call.operatorType === 2 && call.items === TOKENS_PER_CALL)).toBe(true);
    expect((await stack.sqs.depth()).deadLettered).toBe(0);
  });

  it('ends fully applied with nothing dead-lettered while half the TPNS calls fail retryably', async () => {
    emulator().injectFault({ kind: 'http500', rate: 0.5, seed: 20_260_101, path: 'batchoperate' });
    const items = pairs('flaky');
    await importAndDrain(items);

    expect(unbound(items)).toEqual([]);
    // The fault really bit (about half of all calls failed and were retried)...
    const calls = batchoperateCalls(stack);
    const faulted = calls.filter((call) => call.fault === 'http500').length;
    expect(faulted).toBeGreaterThan(calls.length / 4);
    expect(calls.length - faulted).toBeGreaterThanOrEqual(PAIRS / TOKENS_PER_CALL);
    // ...and nothing was given up on.
    expect((await stack.sqs.depth()).deadLettered).toBe(0);
  }, 90_000); // a chunk that outlives the worker's budget comes back after the 20 s visibility timeout

  it('dead-letters only a permanently invalid token, with its reason, and never retries it', async () => {
    const items = pairs('mixed');
    const invalid = items[777];
    if (!invalid) throw new Error('fixture too small');
    emulator().setInvalidTokens([invalid.token]);
    await importAndDrain(items);

    expect(unbound(items)).toEqual([invalid]);
    const sentWithInvalid = batchoperateCalls(stack).filter((call) => JSON.stringify(call.body).includes(`"${invalid.token}"`));
    expect(sentWithInvalid).toHaveLength(1);

    // One letter, holding exactly the refused item (re-queueable as is) and TPNS's reason.
    const dead = await takeDeadLetters(stack);
    expect(dead).toHaveLength(1);
    const letter = deadLetterSchema.parse(dead[0]);
    expect(letter.reason.code).toBe('1008006');
    expect(letter.work).toMatchObject({ kind: 'bind', platform: invalid.platform, items: [{ token: invalid.token, account: invalid.account }] });
    expect(await stack.sqs.depth()).toMatchObject({ queued: 0, inFlight: 0, delayed: 0 });
  });
});
