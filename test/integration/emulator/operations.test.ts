/** Each batchoperate op and both queries over HTTP, checked against the emulator's state. */
import { describe, expect, it } from 'vitest';
import { BATCH, QUERY, bindBody, send } from './tpns-http.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

const emulator = useTpnsEmulator();

describe('batchoperate', () => {
  it('op 2 binds each token to its accounts; one status per token in request order', async () => {
    const answer = await send(emulator(), BATCH, {
      operator_type: 2,
      platform: 'android',
      token_accounts: [
        { token: 'tok-1', account_list: [{ account: 'alice' }, { account: '+8613800000000', account_type: 1002 }] },
        { token: 'tok-2', account_list: [{ account: 'alice' }] },
      ],
    });
    expect(answer).toMatchObject({ status: 200, json: { ret_code: 0, err_msg: 'ok', result: ['0', '0'] } });
    expect(emulator().accountsOf('android', 'tok-1')).toEqual([
      { account: 'alice', accountType: 0 },
      { account: '+8613800000000', accountType: 1002 },
    ]);
    expect(emulator().tokensOf('android', 'alice')).toEqual(['tok-1', 'tok-2']);
  });

  it('op 2 overwrites per account_type: the previous account of that type loses the token, other types stay', async () => {
    await send(emulator(), BATCH, bindBody('android', [['shared', 'first'], ['shared', 'first@example.com', 1005]]));
    await send(emulator(), BATCH, bindBody('android', [['shared', 'second']]));
    expect(emulator().accountsOf('android', 'shared')).toEqual([
      { account: 'second', accountType: 0 },
      { account: 'first@example.com', accountType: 1005 },
    ]);
    expect(emulator().tokensOf('android', 'first')).toEqual([]);
    expect(emulator().tokensOf('android', 'second')).toEqual(['shared']);
  });

  it('op 1 (withdrawn append) behaves as op 2 overwrite', async () => {
    await send(emulator(), BATCH, bindBody('android', [['tok-o', 'old-user']]));
    const answer = await send(emulator(), BATCH, {
      operator_type: 1,
      platform: 'android',
      token_accounts: [{ token: 'tok-o', account_list: [{ account: 'new-user' }] }],
    });
    expect(answer.json).toMatchObject({ ret_code: 0, result: ['0'] });
    expect(emulator().accountsOf('android', 'tok-o')).toEqual([{ account: 'new-user', accountType: 0 }]);
  });

  it('an account keeps at most 100 tokens: the 101st evicts the oldest', async () => {
    for (let start = 0; start < 101; start += 20) {
      const pairs = Array.from({ length: Math.min(20, 101 - start) }, (_, i): [string, string] => [`dev-${start + i}`, 'busy']);
      expect((await send(emulator(), BATCH, bindBody('android', pairs))).json).toMatchObject({ ret_code: 0 });
    }
    const tokens = emulator().tokensOf('android', 'busy');
    expect(tokens).toHaveLength(100);
    expect(tokens[0]).toBe('dev-1');
    expect(tokens.at(-1)).toBe('dev-100');
    expect(emulator().accountsOf('android', 'dev-0')).toEqual([]);
  });

  it('re-binding a token makes it the newest, so it is not the next one evicted', async () => {
    const pairs = Array.from({ length: 100 }, (_, i): [string, string] => [`d-${i}`, 'keeper']);
    for (let start = 0; start < 100; start += 20) await send(emulator(), BATCH, bindBody('android', pairs.slice(start, start + 20)));
    await send(emulator(), BATCH, bindBody('android', [['d-0', 'keeper'], ['d-new', 'keeper']]));
    const tokens = emulator().tokensOf('android', 'keeper');
    expect(tokens).toContain('d-0');
    expect(tokens).not.toContain('d-1');
  });

  it('op 3 removes only the listed accounts from each token', async () => {
    await send(emulator(), BATCH, bindBody('android', [['tok-r', 'carol'], ['tok-r', 'carol@example.com', 1005]]));
    const answer = await send(emulator(), BATCH, {
      operator_type: 3,
      platform: 'android',
      token_accounts: [
        { token: 'tok-r', account_list: [{ account: 'carol@example.com', account_type: 1005 }] },
        { token: 'tok-unknown', account_list: [{ account: 'nobody' }] },
      ],
    });
    expect(answer.json).toMatchObject({ ret_code: 0, result: ['0', '0'] });
    expect(emulator().accountsOf('android', 'tok-r')).toEqual([{ account: 'carol', accountType: 0 }]);
  });

  it('op 3 with an account the token does not hold changes nothing', async () => {
    await send(emulator(), BATCH, bindBody('android', [['tok-s', 'sam']]));
    await send(emulator(), BATCH, { operator_type: 3, platform: 'android', token_accounts: [{ token: 'tok-s', account_list: [{ account: 'sam', account_type: 7 }] }] });
    expect(emulator().accountsOf('android', 'tok-s')).toEqual([{ account: 'sam', accountType: 0 }]);
  });

  it('op 4 removes every account from the listed tokens', async () => {
    await send(emulator(), BATCH, bindBody('android', [['tok-u', 'dave'], ['tok-u', 'dave-phone', 1002], ['tok-keep', 'dave']]));
    const answer = await send(emulator(), BATCH, { operator_type: 4, platform: 'android', token_list: ['tok-u', 'tok-none'] });
    expect(answer.json).toMatchObject({ ret_code: 0, result: ['0', '0'] });
    expect(emulator().accountsOf('android', 'tok-u')).toEqual([]);
    expect(emulator().tokensOf('android', 'dave')).toEqual(['tok-keep']);
    expect(emulator().tokensOf('android', 'dave-phone', 1002)).toEqual([]);
  });

  it('op 5 removes every token from the listed accounts (per account_type); one status per account', async () => {
    await send(emulator(), BATCH, bindBody('android', [['tok-d1', 'erin'], ['tok-d2', 'erin'], ['tok-d2', 'erin', 3], ['tok-d3', 'frank']]));
    const answer = await send(emulator(), BATCH, { operator_type: 5, platform: 'android', account_list: [{ account: 'erin' }, { account: 'ghost' }] });
    expect(answer.json).toMatchObject({ ret_code: 0, result: ['0', '0'] });
    expect(emulator().tokensOf('android', 'erin')).toEqual([]);
    expect(emulator().tokensOf('android', 'erin', 3)).toEqual(['tok-d2']);
    expect(emulator().tokensOf('android', 'frank')).toEqual(['tok-d3']);
  });

  it('invalid tokens fail per item with 1008006; the rest apply; ret_code 1008026 (partly) or 1008027 (fully)', async () => {
    emulator().setInvalidTokens(['bad-1', 'bad-2']);
    const partly = await send(emulator(), BATCH, bindBody('android', [['good-1', 'kim'], ['bad-1', 'kim'], ['good-2', 'kim']]));
    expect(partly.json).toMatchObject({ ret_code: 1008026, result: ['0', '1008006', '0'] });
    expect(emulator().tokensOf('android', 'kim')).toEqual(['good-1', 'good-2']);

    const fully = await send(emulator(), BATCH, { operator_type: 4, platform: 'android', token_list: ['bad-1', 'bad-2'] });
    expect(fully.json).toMatchObject({ ret_code: 1008027, result: ['1008006', '1008006'] });
    expect(emulator().counters()).toMatchObject({ itemsApplied: 2, itemsFailed: 3 });
  });
});

describe('query', () => {
  it('op 1: tokens of each account in request order, camelCase return fields', async () => {
    await send(emulator(), BATCH, bindBody('android', [['t1', 'amy'], ['t2', 'amy'], ['t3', 'amy-mail', 1005]]));
    const answer = await send(emulator(), QUERY, {
      operator_type: 1,
      account_list: [{ account: 'amy-mail', account_type: 1005 }, { account: 'nobody' }, { account: 'amy' }],
    });
    expect(answer.json).toEqual({
      retCode: 0,
      errMsg: 'ok',
      result: ['0', '10110008', '0'],
      account_tokens: [
        { account: 'amy-mail', account_type: 1005, token_list: ['t3'] },
        { account: 'nobody', token_list: [] },
        { account: 'amy', token_list: ['t1', 't2'] },
      ],
    });
  });

  it('op 2: accounts of each token with their account_type', async () => {
    await send(emulator(), BATCH, bindBody('android', [['t9', 'ben'], ['t9', 'ben@example.com', 1005]]));
    const answer = await send(emulator(), QUERY, { operator_type: 2, token_list: ['t9'] });
    expect(answer.json).toEqual({
      retCode: 0,
      errMsg: 'ok',
      result: ['0'],
      token_accounts: [{ token: 't9', account_list: [{ account: 'ben', account_type: 0 }, { account: 'ben@example.com', account_type: 1005 }] }],
    });
  });

  it('nothing found anywhere: retCode 10110008 with empty lists', async () => {
    const byToken = await send(emulator(), QUERY, { operator_type: 2, token_list: ['nothing-here'] });
    expect(byToken.json).toMatchObject({ retCode: 10110008, result: ['10110008'], token_accounts: [{ token: 'nothing-here', account_list: [] }] });
    const byAccount = await send(emulator(), QUERY, { operator_type: 1, account_list: [{ account: 'nobody' }] });
    expect(byAccount.json).toMatchObject({ retCode: 10110008, account_tokens: [{ account: 'nobody', token_list: [] }] });
  });

  it('queries change nothing and are logged with their item count', async () => {
    await send(emulator(), QUERY, { operator_type: 2, token_list: ['a1', 'a2', 'a3'] });
    expect(emulator().state('android')).toEqual({ tokens: [], accounts: [], pending: 0 });
    expect(emulator().requests()).toEqual([expect.objectContaining({ path: QUERY, operatorType: 2, items: 3, retCode: 10110008 })]);
  });
});
