/** How the worker reads one SQS record: a v2 key message, a redriven dead letter, or why it is neither. */
import { describe, expect, it } from 'vitest';
import { invalidMessageLetter, keyLetter } from '../../../lib/queue/dead-letter.js';
import type { KeyMessage } from '../../../lib/queue/messages.js';
import { parseSqsEvent, readKeyRecord } from '../../../lib/worker/key-record.js';
import { sqsRecord } from '../../support/sqs-records.js';

const push: KeyMessage = { v: 2, phase: 'push', correlationId: 'req-1', attempt: 0, keys: [{ kind: 'token', platform: 'android', token: 'tok-1' }] };

describe('readKeyRecord', () => {
  it('reads push, verify and record messages as they were sent', () => {
    const verify: KeyMessage = { v: 2, phase: 'verify', correlationId: 'req-2', attempt: 3, keys: [{ kind: 'erasure', account: 'alice', accountType: 5 }] };
    const record: KeyMessage = { v: 2, phase: 'record', correlationId: 'req-3', attempt: 0, signIns: [{ platform: 'ios', token: 'tok-2', account: 'bob', v: 1_700_000_000_000_000 }] };
    for (const message of [push, verify, record]) {
      const read = readKeyRecord(sqsRecord(message));
      expect(read).toMatchObject({ message });
    }
  });

  it('turns a redriven dead letter with a key into a read-back of that key, under its correlation id', () => {
    const letter = keyLetter({ kind: 'token', platform: 'ios', token: 'tok-3' }, { code: '1008006', message: 'invalid token' }, { messageId: 'm-0', correlationId: 'req-9' });
    expect(readKeyRecord(sqsRecord(JSON.stringify(letter)))).toMatchObject({
      message: { v: 2, phase: 'verify', attempt: 0, correlationId: 'req-9', keys: [{ kind: 'token', platform: 'ios', token: 'tok-3' }] },
    });
  });

  it('refuses, naming why: not JSON, v1, a key TPNS would reject, too many keys, a keyless dead letter', () => {
    const invalid = (body: string) => {
      const read = readKeyRecord(sqsRecord(body));
      return 'invalid' in read ? read.invalid : undefined;
    };
    expect(invalid('{')).toBe('body is not JSON');
    expect(invalid(JSON.stringify({ v: 1, kind: 'bind', platform: 'android', items: [] }))).toMatch(/^not a v2 key message: /);
    expect(invalid(JSON.stringify({ ...push, keys: [{ kind: 'token', platform: 'android', token: 'has space' }] }))).toMatch(/keys\.0\.token/);
    expect(invalid(JSON.stringify({ ...push, keys: [{ kind: 'token', platform: 'web', token: 'tok' }] }))).toMatch(/keys\.0\.platform/);
    expect(invalid(JSON.stringify({ ...push, keys: Array.from({ length: 21 }, () => push.keys[0]) }))).toMatch(/keys/);
    expect(invalid(JSON.stringify({ ...push, attempt: -1 }))).toMatch(/attempt/);
    expect(invalid(JSON.stringify({ ...push, phase: 'apply' }))).toMatch(/^not a v2 key message/);
    expect(invalid(JSON.stringify(invalidMessageLetter('junk', 'body is not JSON', { messageId: 'm-1' })))).toMatch(/redriven dead letter without a key \(INVALID_MESSAGE\)/);
  });

  it('keeps the message id and the raw body', () => {
    const record = sqsRecord('nope');
    expect(readKeyRecord(record)).toMatchObject({ messageId: record.messageId, body: 'nope' });
  });
});

describe('parseSqsEvent', () => {
  it('names what it expected when given another event', () => {
    expect(() => parseSqsEvent({ 'detail-type': 'account.login' })).toThrow(/expected an SQS event .*Records: /);
    expect(() => parseSqsEvent({ Records: [{ ...sqsRecord('{}'), eventSource: 'aws:kinesis' }] })).toThrow(/Records\.0\.eventSource/);
    expect(() => parseSqsEvent({ Records: [] })).toThrow(/Records/);
  });

  it('accepts a standard-queue record (no MessageGroupId)', () => {
    const event = { Records: [sqsRecord('{}')] };
    expect(parseSqsEvent(event)).toBe(event);
  });
});
