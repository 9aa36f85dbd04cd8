/**
 * GDPR/PIPL erasure leaves no plaintext behind: once an account deletion has been applied,
 * verified and everything is quiet, no item of the intent ledger (a full table scan), no log line
 * (DEBUG, the worker's included), no queued message and no dead letter holds the deleted account.
 * Only its receipt remains, keyed by an HMAC of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as deleteAccount } from '../../functions/delete-account.js';
import { handler as login } from '../../functions/login.js';
import { handler as logout } from '../../functions/logout.js';
import { handler as query } from '../../functions/query.js';
import { httpEvent, httpSignIn, invokeHttp } from '../integration/functions/harness.js';
import { startSecurityStack } from './support.js';
import type { SecurityStack } from './support.js';

const ADMIN = { account: 'ops-admin', scope: 'tpns/admin' };
/** Distinctive identifiers (personal data: an e-mail, a phone number, a user id) that must vanish. */
const ERASED = [
  { account: 'Erased.Person+gdpr@example.com', accountType: 1005 },
  { account: '+8613912345678', accountType: 1002 },
  { account: 'erased-user-7f3a91' },
] as const;
/** Someone else on a shared device: must stay. */
const KEPT = 'kept-user-5b2c77';

let stack: SecurityStack;
beforeAll(async () => {
  stack = await startSecurityStack({ logLevel: 'DEBUG' });
});
afterAll(() => stack.close());

const receipt = (account: string, accountType?: number) =>
  invokeHttp(query, httpEvent('GET /v1/admin/erasures/{account}', { ...ADMIN, pathParameters: { account }, ...(accountType === undefined ? {} : { query: { accountType: String(accountType) } }) }));

describe('after an account deletion has been verified', () => {
  it('no ledger item, log line, queued message or dead letter holds the deleted account in plaintext', { timeout: 90_000 }, async () => {
    const [email, phone, userId] = ERASED;
    // Every way an account reaches the ledger: direct sign-ins on both apps, a sign-in TPNS failed
    // (recorded and queued), an admin bulk (recorded and queued), a shared device signed out.
    expect((await httpSignIn(email.account, 'erase-email-android', 'android', email.accountType)).statusCode).toBe(200);
    expect((await httpSignIn(email.account, 'erase-email-iphone', 'ios', email.accountType)).statusCode).toBe(200);
    expect((await httpSignIn(userId.account, 'erase-user-android', 'android')).statusCode).toBe(200);
    const fault = stack.tpns.injectFault({ kind: 'http500', path: 'batchoperate' });
    expect((await httpSignIn(userId.account, 'erase-user-tablet', 'android')).statusCode).toBe(202);
    stack.tpns.clearFaults();
    expect(fault.fired).toBeGreaterThan(0);
    const bulk = Array.from({ length: 50 }, (_, index) => ({ token: `erase-phone-${index}`, account: phone.account, accountType: phone.accountType, platform: index % 2 ? 'ios' : 'android' }));
    expect((await invokeHttp(login, httpEvent('POST /v1/admin/bindings', { ...ADMIN, body: { items: bulk } }))).statusCode).toBe(202);
    // A shared device: the erased user signed in, then someone else; the other one stays.
    expect((await httpSignIn(userId.account, 'erase-shared-ipad', 'ios')).statusCode).toBe(200);
    expect((await httpSignIn(KEPT, 'erase-shared-ipad', 'ios')).statusCode).toBe(200);
    expect((await invokeHttp(logout, httpEvent('DELETE /v1/me/devices/{token}', { account: userId.account, pathParameters: { token: 'erase-user-android' }, query: { platform: 'android' } }))).statusCode).toBe(200);
    await stack.startWorker();
    await stack.quiesce();
    // The ledger really held them (so the scan below would find them if they stayed).
    expect(JSON.stringify(await stack.scanLedger())).toContain(phone.account);

    // The deletions: the user's own, and an admin bulk for the typed accounts.
    expect((await invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: userId.account }))).statusCode).toBe(200);
    const accounts = [email, phone].map(({ account, accountType }) => ({ account, accountType }));
    expect((await invokeHttp(deleteAccount, httpEvent('POST /v1/admin/delete-accounts', { ...ADMIN, body: { accounts } }))).statusCode).toBe(200);
    await stack.quiesce();

    for (const { account, ...type } of ERASED) {
      const answer = await receipt(account, 'accountType' in type ? type.accountType : undefined);
      expect(answer, account).toMatchObject({ statusCode: 200, body: { state: 'verified' } });
      for (const platform of ['android', 'ios'] as const) expect(stack.tpns.tokensOf(platform, account, 'accountType' in type ? type.accountType : 0)).toEqual([]);
    }
    expect(stack.tpns.accountsOf('ios', 'erase-shared-ipad')).toEqual([{ account: KEPT, accountType: 0 }]);

    const items = JSON.stringify(await stack.scanLedger());
    const output = stack.output.text();
    const queued = await stack.sqs.depth();
    const letters = (await stack.drainDeadLetters()).join('\n');
    // Ledger items remain (tokens' records, receipts, the kept user's index): the scan is not vacuous.
    expect(items).toContain(KEPT);
    expect(items).toContain('"E#');
    expect(stack.output).toHaveLogged({ message: 'Batch reconciled' });
    expect(queued).toMatchObject({ queued: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
    for (const { account } of ERASED) {
      const forms = [account, account.toLowerCase(), encodeURIComponent(account), JSON.stringify(account).slice(1, -1)];
      for (const form of forms) {
        expect(items, `ledger holds ${form}`).not.toContain(form);
        expect(output, `a log line holds ${form}`).not.toContain(form);
        expect(letters, `a dead letter holds ${form}`).not.toContain(form);
      }
    }
  });
});
