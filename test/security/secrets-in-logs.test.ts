/**
 * Secret keys and raw device tokens never reach the logs, error messages, HTTP answers or dead
 * letters, nor do accounts reach routine log lines. A full run at DEBUG level (direct path, TPNS
 * faults, the queue, the worker's pushes and read-backs, dead letters, refused input, wrong
 * credentials) is captured from stdout/stderr and searched.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as deleteAccount } from '../../functions/delete-account.js';
import { handler as login } from '../../functions/login.js';
import { handler as logout } from '../../functions/logout.js';
import { handler as query } from '../../functions/query.js';
import { resetRuntimeForTests } from '../../lib/config/runtime.js';
import { httpEvent, invokeHttp } from '../integration/functions/harness.js';
import { startSecurityStack } from './support.js';
import type { SecurityStack } from './support.js';

const ADMIN_SCOPE = 'tpns/admin';

/** An EventBridge account event shaped like test/fixtures' recorded one. */
function accountEvent(type: 'account.logout', detail: Record<string, unknown>) {
  const base = JSON.parse(readFileSync(new URL('../fixtures/eventbridge-account-logout.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  return { ...base, 'detail-type': type, id: randomUUID(), time: new Date().toISOString(), detail: { occurredAt: new Date().toISOString(), eventId: randomUUID(), ...detail } };
}

const ANDROID_SECRET = 'Zq9-ANDROID-SECRET-7f3e1d2c9b8a';
const IOS_SECRET = 'Zq9-IOS-SECRET-0a1b2c3d4e5f';
/** Distinctive raw tokens: any occurrence in a log line is a leak. */
const tokens = Array.from({ length: 30 }, (_, i) => `RAWTOK${String(i).padStart(2, '0')}x${'ab12'.repeat(5)}`);
const DEAD = 'RAWTOKDEADx0000000000000000';

let stack: SecurityStack;
const answers: string[] = [];
beforeAll(async () => {
  stack = await startSecurityStack({
    apps: { android: { accessId: '1500000001', secretKey: ANDROID_SECRET }, ios: { accessId: '1600000001', secretKey: IOS_SECRET } },
    invalidTokens: [DEAD],
    logLevel: 'DEBUG',
    env: { TPNS_TIMEOUT_MS: '500', WORKER_RETRY_BUDGET_MS: '1000' },
  });
});
afterAll(() => stack.close());

const record = async (promise: Promise<{ statusCode: number; body: unknown }>) => {
  const answer = await promise;
  answers.push(JSON.stringify(answer.body));
  return answer;
};

describe('secrets and raw tokens stay out of logs, errors and answers', () => {
  it('holds through a run with faults, the queue, the worker, dead letters and wrong credentials', async () => {
    const { tpns } = stack;
    const put = (token: string, account: string, platform = 'android') =>
      record(invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { account, pathParameters: { token }, body: { platform } })));

    for (const [i, token] of tokens.slice(0, 10).entries()) await put(token, `user-${i}`, i % 2 ? 'ios' : 'android');
    await put(DEAD, 'user-dead');
    tpns.injectFault({ kind: 'http500', count: 20 });
    await put(tokens[10]!, 'user-10'); // queued after the direct budget
    tpns.injectFault({ kind: 'drop', count: 5 });
    await record(invokeHttp(logout, httpEvent('DELETE /v1/me/devices/{token}', { account: 'user-0', pathParameters: { token: tokens[0]! }, query: { platform: 'android' } })));
    tpns.clearFaults();
    await record(
      invokeHttp(login, httpEvent('POST /v1/admin/bindings', { account: 'ops', scope: ADMIN_SCOPE, body: { items: [...tokens.slice(5), DEAD].map((token, i) => ({ token, account: `bulk-${i}`, platform: 'ios' })) } })),
    );
    await record(invokeHttp(query, httpEvent('GET /v1/me/devices', { account: 'user-1' })));
    await record(invokeHttp(deleteAccount, httpEvent('DELETE /v1/me', { account: 'user-2' })));
    await record(invokeHttp(login, httpEvent('PUT /v1/me/devices/{token}', { account: 'user-3', pathParameters: { token: `${tokens[3]} x` }, body: { platform: 'ios' } })));
    await logout(accountEvent('account.logout', { account: 'user-4', token: `${tokens[4]}\u0000`, platform: 'ios' }), {} as never).catch((error: unknown) => answers.push(String(error)));

    await stack.startWorker({ concurrency: 1, visibilityTimeoutSeconds: 2 });
    await stack.quiesce();

    // Wrong credentials in the deployment: TPNS answers 401; the error must not carry the key.
    const wrongKey = 'Zq9-WRONG-KEY-not-the-real-one';
    process.env.TPNS_ANDROID_SECRET_KEY = wrongKey;
    resetRuntimeForTests();
    await put(tokens[5]!, 'user-5');
    await record(invokeHttp(query, httpEvent('GET /v1/me/devices', { account: 'user-5' })));
    process.env.TPNS_ANDROID_SECRET_KEY = ANDROID_SECRET;
    resetRuntimeForTests();

    const output = stack.output.lines().join('\n');
    const letters = JSON.stringify(await stack.drainDeadLetters());
    expect(output.length).toBeGreaterThan(1_000); // the run really logged
    // The paths under test really ran: the worker reconciled batches, verified read-backs, TPNS refused the credentials...
    expect(stack.output).toHaveLogged({ message: 'Batch reconciled' });
    expect(output).toMatch(/"verified":[1-9]/);
    expect(output).toContain('1008003');
    // ...and the invalid token was dead-lettered with TPNS's reason (a letter names its key: the queue is not a log).
    expect(letters).toContain('1008006');
    expect(letters).toContain(DEAD);
    for (const secret of [ANDROID_SECRET, IOS_SECRET, wrongKey]) {
      expect(output).not.toContain(secret);
      expect(answers.join('\n')).not.toContain(secret);
      expect(letters).not.toContain(secret);
    }
    // (Answers may name the caller's own tokens: `failed: [{ token, code }]`, `GET /v1/me/devices`.)
    const leaked = [...tokens, DEAD].filter((token) => output.includes(token));
    expect(leaked).toEqual([]);
    // Accounts (personal data: e-mails, phone numbers) are not in routine log lines either.
    expect(output.match(/"[^"]*\b(user|bulk)-\d+[^"]*"/g) ?? []).toEqual([]);
  });
});
