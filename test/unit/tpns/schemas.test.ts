import { describe, expect, it } from 'vitest';
import { classifyItemStatus } from '../../../lib/tpns/classify.js';
import {
  batchOperateRequestSchema,
  batchOperateResponseSchema,
  queryRequestSchema,
  queryResponseSchema,
  readEnvelope,
} from '../../../lib/tpns/schemas.js';

describe('reply envelope', () => {
  it('reads ret_code/err_msg (batchoperate casing)', () => {
    expect(readEnvelope({ ret_code: 0, err_msg: 'success', result: ['0'] })).toEqual({ retCode: '0', message: 'success' });
  });

  it('reads retCode/errMsg (query casing)', () => {
    expect(readEnvelope({ retCode: 10110008, errMsg: 'not found' })).toEqual({ retCode: '10110008', message: 'not found' });
  });

  it('accepts ret codes as strings', () => {
    expect(readEnvelope({ ret_code: '1008028' })).toEqual({ retCode: '1008028' });
  });

  it('has no ret code for bodies that are not TPNS replies', () => {
    expect(readEnvelope(undefined)).toEqual({});
    expect(readEnvelope('<html>bad gateway</html>')).toEqual({});
    expect(readEnvelope({ ret_code: true })).toEqual({});
  });
});

describe('batchoperate reply', () => {
  it('turns numeric and string statuses into strings', () => {
    const parsed = batchOperateResponseSchema.parse({ ret_code: 1008026, result: [0, '1008006', 'ok'] });
    expect(parsed.result).toEqual(['0', '1008006', 'ok']);
  });

  it('accepts a null result (a plain success)', () => {
    expect(batchOperateResponseSchema.parse({ ret_code: 0, result: null }).result).toBeNull();
  });

  it('"0" and "ok" are success, others are failures per item', () => {
    expect(classifyItemStatus('0')).toMatchObject({ ok: true, retryable: false });
    expect(classifyItemStatus('ok')).toMatchObject({ ok: true, retryable: false });
    expect(classifyItemStatus('1008006')).toEqual({ ok: false, code: '1008006', message: 'invalid token', retryable: false });
    expect(classifyItemStatus('1008028')).toMatchObject({ ok: false, retryable: true });
    expect(classifyItemStatus('1008004')).toMatchObject({ ok: false, retryable: true });
  });
});

describe('query reply', () => {
  it('reads both mappings with string or numeric account types', () => {
    const parsed = queryResponseSchema.parse({
      retCode: 0,
      errMsg: '',
      account_tokens: [{ account: 'alice', token_list: ['t1', 't2'] }],
      token_accounts: [{ token: 't1', account_list: [{ account: 'alice', account_type: '1002' }, { account: 'bob' }] }],
    });
    expect(parsed.account_tokens?.[0]?.token_list).toEqual(['t1', 't2']);
    expect(parsed.token_accounts?.[0]?.account_list).toEqual([{ account: 'alice', account_type: 1002 }, { account: 'bob' }]);
  });

  it('rejects a mapping without its key field', () => {
    expect(queryResponseSchema.safeParse({ retCode: 0, account_tokens: [{ token_list: [] }] }).success).toBe(false);
  });
});

describe('requests', () => {
  const entry = (i: number) => ({ token: `token-${i}`, account_list: [{ account: `user-${i}`, account_type: 0 }] });

  it('allows 20 token_accounts and refuses 21 (TPNS limit)', () => {
    const body = (n: number) => ({ operator_type: 2, platform: 'android', token_accounts: Array.from({ length: n }, (_, i) => entry(i)) });
    expect(batchOperateRequestSchema.safeParse(body(20)).success).toBe(true);
    expect(batchOperateRequestSchema.safeParse(body(21)).success).toBe(false);
  });

  it('matches the list field to the operator type', () => {
    expect(batchOperateRequestSchema.safeParse({ operator_type: 4, platform: 'ios', token_list: ['t'] }).success).toBe(true);
    expect(batchOperateRequestSchema.safeParse({ operator_type: 4, platform: 'ios', account_list: [{ account: 'ab' }] }).success).toBe(false);
    expect(batchOperateRequestSchema.safeParse({ operator_type: 5, platform: 'ios', account_list: [{ account: 'ab' }] }).success).toBe(true);
    expect(batchOperateRequestSchema.safeParse({ operator_type: 1, platform: 'ios', token_accounts: [entry(0)] }).success).toBe(false);
    expect(queryRequestSchema.safeParse({ operator_type: 1, account_list: [{ account: 'ab' }] }).success).toBe(true);
    expect(queryRequestSchema.safeParse({ operator_type: 2, token_list: [] }).success).toBe(false);
  });
});
