/** Unknown body keys are refused by name, in user routes and inside admin items alike, and nothing is recorded or sent. */
import { describe, expect, it } from 'vitest';
import { handler as deleteAccount } from '../../../functions/delete-account.js';
import { handler as login } from '../../../functions/login.js';
import { useStack } from '../../support/use-stack.js';
import { startQuietStack } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';
import { httpEvent, invokeHttp } from './harness.js';

let stack: Stack;
useStack((started) => (stack = started), {}, startQuietStack);

describe('unknown keys', () => {
  it('PUT /v1/me/devices/{token}: `body.foo: unknown key`', async () => {
    const answer = await invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { pathParameters: { token: 'unknown-key-1' }, body: { platform: 'android', foo: 1 } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual([{ path: 'body.foo', message: 'unknown key' }]);
    expect(stack.tpns.requests()).toEqual([]);
  });

  it('POST /v1/admin/bindings: a misspelt key inside an item is named with its index', async () => {
    const items = [
      { token: 'unknown-key-2', account: 'user-1', platform: 'android' },
      { token: 'unknown-key-3', account: 'user-2', platform: 'android', acountType: 3 },
    ];
    const answer = await invokeHttp(login, httpEvent('POST /v1/admin/bindings', { scope: 'tpns/admin', body: { items } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual([{ path: 'body.items.1.acountType', message: 'unknown key' }]);
    expect(stack.tpns.requests()).toEqual([]);
  });

  it('POST /v1/admin/delete-accounts: an unknown top-level key is named', async () => {
    const answer = await invokeHttp(deleteAccount, httpEvent('POST /v1/admin/delete-accounts', { scope: 'tpns/admin', body: { accounts: [{ account: 'user-9' }], dryRun: true } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.issues).toEqual([{ path: 'body.dryRun', message: 'unknown key' }]);
  });
});
