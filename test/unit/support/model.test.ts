/**
 * The adversarial model's reading of refused operations: one refused after a 503 for the queue
 * (maybe recorded) may or may not take effect; one refused without a 503 (a 4xx) must never take effect.
 */
import { describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../../../local/tpns-emulator/index.js';
import { Model } from '../../reliability/support/model.js';
import type { AccountKey, OpRecord, OpSpec } from '../../reliability/support/model.js';

const device = { platform: 'android' as const, token: 'token-1' };
const alice: AccountKey = { account: 'alice', accountType: 0 };
const bob: AccountKey = { account: 'bob', accountType: 0 };

let ids = 0;
function op(spec: OpSpec, startedAt: number, answeredAt: number, outcome: 'accepted' | 'maybe' | 'refused'): OpRecord {
  ids += 1;
  return {
    id: ids,
    spec,
    actor: 'user',
    startedAt,
    answeredAt,
    answerSeq: ids,
    status: outcome === 'accepted' ? 'accepted' : 'refused',
    attempts: outcome === 'accepted' ? ['200'] : outcome === 'maybe' ? ['503'] : ['400'],
    ...(outcome === 'maybe' ? { maybeRecorded: true } : {}),
  };
}
const signIn = (user: AccountKey): OpSpec => ({ kind: 'sign-in', via: 'http', device, user });
const signOut: OpSpec = { kind: 'sign-out', via: 'http', device, user: alice };

/** One batchoperate op 2 write of `user` on the token, received at `receivedAt`. */
const bindWrite = (user: AccountKey, receivedAt: number): RequestLogEntry => ({
  seq: receivedAt,
  receivedAt,
  time: receivedAt,
  path: '/v3/device/account/batchoperate',
  platform: 'android',
  auth: 'sign',
  operatorType: 2,
  requested: [{ token: device.token, accounts: [user] }],
  httpStatus: 200,
});

const figuresOf = (records: OpRecord[], held: AccountKey[], requests: RequestLogEntry[] = []) =>
  new Model(records).figures(() => held, [device], requests);

describe('the adversarial model and refused operations', () => {
  it('accepts a token with or without a maybe-recorded sign-out taking effect, and counts the one that needed it', () => {
    const records = [op(signIn(alice), 0, 10, 'accepted'), op(signOut, 20, 30, 'maybe')];
    expect(figuresOf(records, [alice])).toMatchObject({ g1: 0, maybeApplied: 0 });
    expect(figuresOf(records, [])).toMatchObject({ g1: 0, maybeApplied: 1 });
    // Neither variant binds bob.
    expect(figuresOf(records, [bob]).g1).toBe(1);
  });

  it('holds an operation refused without a 503 to having no effect', () => {
    const records = [op(signIn(alice), 0, 10, 'accepted'), op(signOut, 20, 30, 'refused')];
    expect(figuresOf(records, [])).toMatchObject({ g1: 1, maybeApplied: 0 });
  });

  it('lets a maybe-recorded sign-in be pushed after its refusal, until an accepted operation supersedes it (G2)', () => {
    const records = [op(signIn(bob), 0, 10, 'maybe'), op(signIn(alice), 20, 30, 'accepted')];
    expect(figuresOf(records, [alice], [bindWrite(bob, 15)]).g2).toBe(0);
    const late = figuresOf(records, [alice], [bindWrite(bob, 40)]);
    expect(late.g2).toBe(1);
    expect(late.violations[0]).toMatchObject({ kind: 'superseded', account: 'bob' });
  });

  it('counts a write of a sign-in refused without a 503 as a bind nobody asked for', () => {
    const records = [op(signIn(bob), 0, 10, 'refused')];
    expect(figuresOf(records, [], [bindWrite(bob, 15)])).toMatchObject({ g2: 0, unacceptedBinds: 1 });
  });
});
