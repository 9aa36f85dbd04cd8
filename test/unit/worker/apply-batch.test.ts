import { describe, expect, it } from 'vitest';
import { deadLetterSchema } from '../../../lib/queue/dead-letter.js';
import type { DeadLetterQueue, QueuedDeadLetter } from '../../../lib/queue/dead-letter.js';
import { QueueUnavailableError } from '../../../lib/queue/errors.js';
import { planWork } from '../../../lib/queue/plan.js';
import type { WorkInput } from '../../../lib/queue/plan.js';
import { TpnsAuthError, TpnsBadRequestError } from '../../../lib/tpns/errors.js';
import { parseSqsEvent, processWorkBatch } from '../../../lib/worker/index.js';
import { FakeTpns } from './fake-tpns.js';
import { recordOf, sqsRecord } from './records.js';

class FakeDeadLetters implements DeadLetterQueue {
  readonly letters: QueuedDeadLetter[] = [];
  unavailable = false;
  async send(letters: QueuedDeadLetter[]) {
    if (this.unavailable) throw new QueueUnavailableError('DLQ down');
    this.letters.push(...letters);
  }
}

let correlation = 0;
const plan = (input: WorkInput) => planWork(input, { correlationId: `c-${++correlation}` });
const bind = (token: string, account: string) => plan({ kind: 'bind', platform: 'android', items: [{ token, account }] });
const unbind = (token: string) => plan({ kind: 'unbind-tokens', platform: 'android', tokens: [token] });

function setup() {
  const tpns = new FakeTpns();
  const deadLetters = new FakeDeadLetters();
  const run = (records: ReturnType<typeof recordOf>[], options: { deadline?: number; noDlq?: boolean } = {}) =>
    processWorkBatch({ Records: records }, {
      tpns,
      deadLetters: options.noDlq ? undefined : deadLetters,
      retryBudgetMs: 1_000,
      ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    });
  return { tpns, deadLetters, run };
}

const failedIds = (response: { batchItemFailures: { itemIdentifier: string }[] }) => response.batchItemFailures.map((f) => f.itemIdentifier);

describe('the worker applying a batch', () => {
  it('merges compatible single-token messages of different groups into one operation', async () => {
    const { tpns, run } = setup();
    const records = Array.from({ length: 30 }, (_, i) => recordOf(bind(`tok-${i}`, `user-${i}`)[0]!));
    const response = await run(records);
    expect(response.batchItemFailures).toEqual([]);
    expect(tpns.operations).toHaveLength(1);
    expect(tpns.operations[0]).toMatchObject({ op: 'bind', platform: 'android' });
    expect(tpns.operations[0]!.items).toHaveLength(30);
    expect(tpns.bound.size).toBe(30);
  });

  it('keeps kinds and platforms apart', async () => {
    const { tpns, run } = setup();
    const ios = plan({ kind: 'bind', platform: 'ios', items: [{ token: 'i1', account: 'user-1' }] });
    await run([recordOf(bind('a1', 'user-1')[0]!), recordOf(unbind('a2')[0]!), recordOf(ios[0]!), recordOf(bind('a3', 'user-3')[0]!)]);
    // The platforms' calls run concurrently (separate TPNS apps): the order holds per platform.
    const sequence = (platform: string) => tpns.operations.filter((o) => o.platform === platform).map((o) => `${o.op}/${o.platform}/${o.items.length}`);
    expect(sequence('android')).toEqual(['bind/android/2', 'unbindTokens/android/1']);
    expect(sequence('ios')).toEqual(['bind/ios/1']);
    expect(tpns.operations).toHaveLength(3);
  });

  it('applies a group in order, in rounds: a later message never goes before an earlier one', async () => {
    const { tpns, run } = setup();
    const records = [
      recordOf(bind('A', 'alice')[0]!),
      recordOf(bind('B', 'bob')[0]!),
      recordOf(bind('A', 'carol')[0]!),
      recordOf(unbind('B')[0]!),
      recordOf(bind('A', 'dave')[0]!),
    ];
    const response = await run(records);
    expect(response.batchItemFailures).toEqual([]);
    expect(tpns.operations.map((o) => `${o.op}:${o.items.map((i) => (typeof i === 'string' ? i : `${(i as { token: string }).token}>${(i as { account: string }).account}`)).join(',')}`)).toEqual([
      'bind:A>alice,B>bob',
      'bind:A>carol',
      'unbindTokens:B',
      'bind:A>dave',
    ]);
    expect(Object.fromEntries(tpns.bound)).toEqual({ 'android:A': 'dave' });
  });

  it('stops a group at its first retryable failure and reports it and the rest of its group', async () => {
    const { tpns, deadLetters, run } = setup();
    let failA = true;
    tpns.verdict = (token) => (token === 'A' && failA ? { code: '1008004', retryable: true } : undefined);
    const first = recordOf(bind('A', 'alice')[0]!);
    const other = recordOf(bind('B', 'bob')[0]!);
    const later = recordOf(unbind('A')[0]!);
    const response = await run([first, other, later]);
    expect(failedIds(response)).toEqual([first.messageId, later.messageId]);
    expect(tpns.operations.some((o) => o.op === 'unbindTokens')).toBe(false);
    expect(tpns.bound.get('android:B')).toBe('bob');
    expect(deadLetters.letters).toEqual([]);

    // Redelivery (the failure has cleared): the group goes on from where it stopped.
    failA = false;
    const again = await run([first, later]);
    expect(again.batchItemFailures).toEqual([]);
    expect(tpns.bound.has('android:A')).toBe(false);
  });

  it('dead-letters only the items TPNS refused for good, with the code, and does not retry them', async () => {
    const { tpns, deadLetters, run } = setup();
    tpns.verdict = (token) => (token === 'bad' ? { code: '1008006', retryable: false } : undefined);
    const chunk = plan({ kind: 'bind', platform: 'android', items: [{ token: 'ok-1', account: 'u1' }, { token: 'bad', account: 'u2' }, { token: 'ok-2', account: 'u3' }] });
    const record = recordOf(chunk[0]!);
    const response = await run([record]);
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.letters).toHaveLength(1);
    const [letter] = deadLetters.letters;
    expect(deadLetterSchema.parse(letter!.letter)).toMatchObject({
      type: 'dead-letter',
      reason: { code: '1008006' },
      work: { kind: 'bind', platform: 'android', items: [{ token: 'bad', account: 'u2' }], correlationId: chunk[0]!.message.correlationId },
      source: { messageId: record.messageId, groupId: chunk[0]!.groupId },
    });
    expect(letter!.letter.source).toEqual({ messageId: record.messageId, groupId: chunk[0]!.groupId, correlationId: chunk[0]!.message.correlationId });
    expect(letter!.groupId).toBe(chunk[0]!.groupId);
    expect([...tpns.bound.keys()].sort()).toEqual(['android:ok-1', 'android:ok-2']);
  });

  it('dead-letters the refused item of the right message when several messages were merged', async () => {
    const { tpns, deadLetters, run } = setup();
    tpns.verdict = (token) => (token === 'bad' ? { code: '1008006', retryable: false } : undefined);
    const first = recordOf(bind('one', 'user-1')[0]!);
    const second = recordOf(plan({ kind: 'bind', platform: 'android', items: [{ token: 'two', account: 'user-2' }, { token: 'bad', account: 'user-3' }] })[0]!);
    expect((await run([first, second])).batchItemFailures).toEqual([]);
    expect(tpns.operations).toHaveLength(1);
    expect(deadLetters.letters.map((l) => [l.letter.source.messageId, l.letter.work])).toEqual([
      [second.messageId, expect.objectContaining({ items: [{ token: 'bad', account: 'user-3' }] })],
    ]);
  });

  it('dead-letters a message that is not valid work (never retried) and goes on with its group', async () => {
    const { tpns, deadLetters, run } = setup();
    const broken = sqsRecord('{"v":2,"kind":"bind"}', 't:A');
    const notJson = sqsRecord('not json', 't:B');
    const badToken = sqsRecord(JSON.stringify({ ...bind('x', 'user-x')[0]!.message, items: [{ token: 'has space', account: 'user-x' }] }), 't:C');
    const next = recordOf(bind('A', 'alice')[0]!);
    const response = await run([broken, notJson, badToken, next]);
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.letters.map((l) => [l.letter.source.messageId, l.letter.reason.code])).toEqual([
      [broken.messageId, 'INVALID_MESSAGE'],
      [notJson.messageId, 'INVALID_MESSAGE'],
      [badToken.messageId, 'INVALID_MESSAGE'],
    ]);
    expect(deadLetters.letters[0]!.letter.body).toBe(broken.body);
    expect(deadLetters.letters[0]!.letter.source).toEqual({ messageId: broken.messageId, groupId: 't:A' });
    expect(deadLetters.letters[0]!.letter.reason.message).toMatch(/^not a v1 work message: v:/);
    expect(deadLetters.letters[1]!.letter.reason.message).toBe('body is not JSON');
    expect(deadLetters.letters[2]!.letter.reason.message).toMatch(/^TPNS would reject: items\.0\.token: must be printable ASCII without spaces$/);
    expect(tpns.bound.get('android:A')).toBe('alice');
  });

  it('applies the work of a dead letter redriven to the queue (after its cause was fixed)', async () => {
    const { tpns, deadLetters, run } = setup();
    tpns.verdict = (token) => (token === 'later-valid' ? { code: '1008006', retryable: false } : undefined);
    await run([recordOf(bind('later-valid', 'alice')[0]!)]);
    const [dead] = deadLetters.letters.splice(0);
    tpns.verdict = () => undefined;
    const response = await run([sqsRecord(JSON.stringify(dead!.letter), dead!.groupId)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(tpns.bound.get('android:later-valid')).toBe('alice');
    expect(deadLetters.letters).toEqual([]);
  });

  it('retries instead of dead-lettering when the dead-letter queue cannot take the letters (or is not configured)', async () => {
    const { tpns, deadLetters, run } = setup();
    tpns.verdict = (token) => (token === 'bad' ? { code: '1008006', retryable: false } : undefined);
    deadLetters.unavailable = true;
    const record = recordOf(bind('bad', 'user-1')[0]!);
    const invalid = sqsRecord('{}', 'g');
    expect(failedIds(await run([record, invalid]))).toEqual([record.messageId, invalid.messageId]);
    expect(failedIds(await run([record], { noDlq: true }))).toEqual([record.messageId]);
  });

  it('retries every message of an operation that failed for reasons that are not the message’s (credentials)', async () => {
    const { tpns, deadLetters, run } = setup();
    tpns.callError = () => new TpnsAuthError('authentication failed', { code: '1008003' });
    const records = [recordOf(bind('A', 'alice')[0]!), recordOf(bind('B', 'bob')[0]!)];
    expect(failedIds(await run(records))).toEqual(records.map((r) => r.messageId));
    expect(deadLetters.letters).toEqual([]);
  });

  it('isolates the message TPNS refuses as a whole by applying the merged messages one by one', async () => {
    const { tpns, deadLetters, run } = setup();
    const good = recordOf(bind('good', 'u1')[0]!);
    const poison = recordOf(bind('poison', 'u2')[0]!);
    tpns.callError = ({ items }) =>
      items.some((item) => (item as { token: string }).token === 'poison')
        ? new TpnsBadRequestError('parameter validation failed', { code: '1008007' })
        : undefined;
    const response = await run([good, poison]);
    expect(response.batchItemFailures).toEqual([]);
    expect(tpns.bound.get('android:good')).toBe('u1');
    expect(deadLetters.letters.map((l) => [l.letter.source.messageId, l.letter.reason.code])).toEqual([[poison.messageId, '1008007']]);
  });

  it('does not start TPNS work past the deadline: everything is retried', async () => {
    const { tpns, run } = setup();
    const records = [recordOf(bind('A', 'alice')[0]!)];
    expect(failedIds(await run(records, { deadline: Date.now() - 1 }))).toEqual([records[0]!.messageId]);
    expect(tpns.operations).toEqual([]);
  });
});

describe('parseSqsEvent', () => {
  it('names what it expected when given another event', () => {
    expect(() => parseSqsEvent({ 'detail-type': 'account.login' })).toThrow(/expected an SQS event .*Records: /);
    expect(() => parseSqsEvent({ Records: [{ ...sqsRecord('{}', 'g'), eventSource: 'aws:kinesis' }] })).toThrow(/Records\.0\.eventSource/);
  });
});
