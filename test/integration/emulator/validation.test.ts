/** TPNS's validation codes: 1008001 unparsable, 1008002 missing, 1008007 invalid; nothing changes. */
import { describe, expect, it } from 'vitest';
import { BATCH, QUERY, bindBody, send } from './tpns-http.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

const emulator = useTpnsEmulator({ maxBodyBytes: 64 * 1024 });

const tokenAccounts = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ token: `tok-${i}`, account_list: [{ account: 'someone' }] }));

async function expectRefused(path: string, body: unknown, code: number, mentions: string, raw?: string): Promise<void> {
  const answer = await send(emulator(), path, body, raw === undefined ? {} : { raw });
  const [codeField, messageField] = path === QUERY ? ['retCode', 'errMsg'] : ['ret_code', 'err_msg'];
  expect(answer.status).toBe(200);
  expect(answer.json[codeField]).toBe(code);
  expect(String(answer.json[messageField])).toContain(mentions);
  expect(emulator().state('android')).toEqual({ tokens: [], accounts: [], pending: 0 });
  expect(emulator().requests().at(-1)).toMatchObject({ retCode: code, httpStatus: 200 });
}

describe('1008001 unparsable', () => {
  it.each([
    ['broken JSON', '{"operator_type": 2,'],
    ['an empty body', ''],
  ])('%s', async (_name, raw) => {
    await expectRefused(BATCH, undefined, 1008001, 'JSON', raw);
  });

  it('a JSON value that is not an object', async () => {
    await expectRefused(BATCH, [1, 2], 1008001, 'object');
  });

  it('on query, answered in camelCase', async () => {
    await expectRefused(QUERY, undefined, 1008001, 'JSON', 'nope');
  });
});

describe('1008002 missing parameter', () => {
  it.each([
    ['operator_type', { platform: 'android', token_list: ['t'] }],
    ['platform', { operator_type: 4, token_list: ['t'] }],
    ['token_accounts', { operator_type: 2, platform: 'android' }],
    ['token_list', { operator_type: 4, platform: 'android' }],
    ['account_list', { operator_type: 5, platform: 'android', token_list: ['t'] }],
  ])('batchoperate without %s', async (field, body) => {
    await expectRefused(BATCH, body, 1008002, field);
  });

  it.each([
    ['operator_type', { token_list: ['t'] }],
    ['account_list', { operator_type: 1 }],
    ['token_list', { operator_type: 2, account_list: [{ account: 'someone' }] }],
  ])('query without %s', async (field, body) => {
    await expectRefused(QUERY, body, 1008002, field);
  });
});

describe('1008007 invalid value', () => {
  it.each([
    ['operator_type out of range', { operator_type: 6, platform: 'android', token_list: ['t'] }, 'operator_type'],
    ['operator_type as a string', { operator_type: '2', platform: 'android', token_list: ['t'] }, 'operator_type'],
    ['unknown platform', { operator_type: 4, platform: 'windows', token_list: ['t'] }, 'platform'],
    ['more than 20 token_accounts', { operator_type: 2, platform: 'android', token_accounts: tokenAccounts(21) }, 'at most 20'],
    ['empty token_accounts', { operator_type: 2, platform: 'android', token_accounts: [] }, 'token_accounts'],
    ['empty account_list in an item', { operator_type: 2, platform: 'android', token_accounts: [{ token: 't', account_list: [] }] }, 'token_accounts.0.account_list'],
    ['empty token', bindBody('android', [['', 'someone']]), 'token_accounts.0.token'],
    ['token longer than 64', bindBody('android', [['x'.repeat(65), 'someone']]), 'at most 64'],
    ['token with a space', bindBody('android', [['a b', 'someone']]), 'printable ASCII'],
    ['non-ASCII token', bindBody('android', [['tökén', 'someone']]), 'printable ASCII'],
    ['single-character account', bindBody('android', [['t', 'a']]), 'at least 2'],
    ['account longer than 100', bindBody('android', [['t', 'a'.repeat(101)]]), 'at most 100'],
    ['account with a control character', bindBody('android', [['t', 'bad\nname']]), 'control'],
    ['negative account_type', bindBody('android', [['t', 'someone', -1]]), 'account_type'],
    ['fractional account_type', bindBody('android', [['t', 'someone', 1.5]]), 'account_type'],
    ['token_list of numbers', { operator_type: 4, platform: 'android', token_list: [1] }, 'token_list.0'],
    ['account_list of strings', { operator_type: 5, platform: 'android', account_list: ['someone'] }, 'account_list.0'],
  ])('%s', async (_name, body, mentions) => {
    await expectRefused(BATCH, body, 1008007, mentions);
  });

  it('exactly 20 token_accounts is accepted', async () => {
    const answer = await send(emulator(), BATCH, { operator_type: 2, platform: 'android', token_accounts: tokenAccounts(20) });
    expect(answer.json).toMatchObject({ ret_code: 0 });
    expect(emulator().tokensOf('android', 'someone')).toHaveLength(20);
  });

  it('query operator_type 3 is refused', async () => {
    await expectRefused(QUERY, { operator_type: 3, token_list: ['t'] }, 1008007, 'operator_type');
  });

  it('a body over the size limit gets HTTP 413 with 1008007', async () => {
    const answer = await send(emulator(), BATCH, { operator_type: 4, platform: 'android', token_list: ['t'.repeat(60)], padding: 'x'.repeat(70 * 1024) });
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ ret_code: 1008007 });
    expect(emulator().requests().at(-1)).toMatchObject({ httpStatus: 413 });
  });
});

describe('routing', () => {
  it('an unknown path is 404 and a GET on an API path is 405; neither is logged as an API call', async () => {
    expect((await fetch(`${emulator().url}/v3/push/app`, { method: 'POST' })).status).toBe(404);
    const get = await fetch(`${emulator().url}${BATCH}`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(emulator().requests()).toEqual([]);
  });
});
