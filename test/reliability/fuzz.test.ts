/**
 * Property-based fuzzing of every HTTP route and event handler with hostile input: malformed and
 * truncated JSON, wrong types, oversized bodies and bulks, tokens with spaces, control
 * characters, look-alike unicode or 65+ characters, bad accounts, negative or fractional account
 * types, unknown platforms, prototype-pollution keys. Every case must be refused (a 4xx naming
 * the field, or a rejected event naming it), never a 5xx; TPNS sees no call, nothing is written
 * to the ledger (DynamoDB) and nothing is queued. Hostile queue messages are dead-lettered.
 *
 * FUZZ_RUNS (default 200; properties run 1-6 times that) and FUZZ_SEED size and vary the run.
 */
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as bindWorker } from '../../functions/bind-worker.js';
import { handler as deleteAccount } from '../../functions/delete-account.js';
import { handler as login } from '../../functions/login.js';
import { handler as logout } from '../../functions/logout.js';
import { handler as query } from '../../functions/query.js';
import { MAX_BULK_ITEMS } from '../../lib/commands/schemas.js';
import { MAX_KEYS_PER_MESSAGE } from '../../lib/queue/messages.js';
import { httpEvent, lambdaContext } from '../integration/functions/harness.js';
import type { HttpRequest } from '../integration/functions/harness.js';
import { sqsRecord } from '../support/sqs-records.js';
import { ADMIN_SCOPE, accountEvent, auth0DeletionEvent, cognitoSignInEvent } from './support/drive.js';
import { startReliabilityStack } from './support/stack.js';
import type { ReliabilityStack } from './support/stack.js';
import { figureText } from '../support/output.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = Number(process.env.FUZZ_SEED ?? 424_242);

type Handler = (event: unknown, context: Context) => Promise<unknown>;

interface HttpCase {
  handler: Handler;
  routeKey: string;
  request: HttpRequest;
  /** The field the answer must name (an issue path prefix, or a word of the error message). */
  field: string;
}

let stack: ReliabilityStack;
let casesTried = 0;
beforeAll(async () => {
  stack = await startReliabilityStack();
});
afterAll(async () => {
  console.log(`fuzz figures: ${figureText({ casesTried, seed: SEED, runsPerProperty: RUNS })}`);
  await stack.close();
});
beforeEach(() => {
  stack.tpns.reset();
  stack.dynamo.faults.resetCounters();
});

/** DynamoDB calls that write: a refused request must make none (the ledger records nothing). */
const LEDGER_WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'];
const ledgerWrites = () => LEDGER_WRITES.reduce((sum, operation) => sum + (stack.dynamo.faults.requests()[operation] ?? 0), 0);

// ---- hostile values -------------------------------------------------------------------------

const goodToken = fc.stringMatching(/^[A-Za-z0-9]{8,40}$/);
const controlChar = fc.integer({ min: 0, max: 0x1f }).chain((code) => fc.constantFrom(String.fromCharCode(code), '\u007f'));
/** Cyrillic and full-width letters that look like ASCII. */
const lookAlike = fc.constantFrom('\u0430', '\u0435', '\u043e', '\u0440', '\u0441', '\uff41', '\u2010', '\u00a0');
const insert = (base: fc.Arbitrary<string>, inserted: fc.Arbitrary<string>) =>
  fc.tuple(base, inserted, fc.nat()).map(([text, piece, at]) => text.slice(0, at % (text.length + 1)) + piece + text.slice(at % (text.length + 1)));

const badToken = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^[A-Za-z0-9]{65,90}$/),
  insert(goodToken, fc.constantFrom(' ', '  ', '\t')),
  insert(goodToken, controlChar),
  insert(goodToken, lookAlike),
);
const badAccount = fc.oneof(
  fc.stringMatching(/^[a-z]$/),
  fc.stringMatching(/^[a-z]{101,130}$/),
  insert(fc.stringMatching(/^[a-z]{3,20}$/), controlChar),
);
/** In a body or an event; an empty JWT claim is a 401 instead (a case of its own). */
const badAccountField = fc.oneof(fc.constant(''), badAccount);
const badAccountType = fc.oneof(fc.integer({ min: -1_000_000, max: -1 }), fc.double({ min: 0.01, max: 1e6, noNaN: true }).filter((n) => !Number.isInteger(n)), fc.constant('1'), fc.constant(null));
const badAccountTypeParam = fc.oneof(fc.integer({ min: -1_000, max: -1 }).map(String), fc.constantFrom('1.5', '0.1', 'abc', '', '1e3', '0x10', ' 1'));
const badPlatform = fc.oneof(fc.constantFrom('web', 'Android', 'IOS', '', ' ios', 'android\u0000', 'windows', '__proto__'), fc.integer(), fc.constant(null));
const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.nat(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.nat(), { maxKeys: 2 }));
/** Keys that would pollute prototypes if a parser or merger assigned them naively. */
const pollutionKey = fc.constantFrom('__proto__', 'constructor', 'prototype');
const pollution = pollutionKey.map((key) => `{"${key}":{"polluted":true,"platform":"ios","items":[],"isAdmin":true}}`);

/** A valid JSON body cut short: never valid JSON again. */
const truncated = (body: object) => {
  const text = JSON.stringify(body);
  return fc.integer({ min: 1, max: text.length - 1 }).map((cut) => text.slice(0, cut));
};

const user = { account: 'fuzz-user-01' };
const admin = { account: 'fuzz-admin', scope: ADMIN_SCOPE };
const validItem = { token: 'fuzzvalidtoken01', account: 'fuzz-user-01', platform: 'android' };

// ---- HTTP cases, route by route ------------------------------------------------------------

const putDevice = (request: HttpRequest, field: string): HttpCase => ({ handler: login, routeKey: 'PUT /v1/me/devices/{token}', request: { ...user, ...request }, field });
const deleteDevice = (request: HttpRequest, field: string): HttpCase => ({ handler: logout, routeKey: 'DELETE /v1/me/devices/{token}', request: { ...user, ...request }, field });
const post = (handler: Handler, routeKey: string, body: unknown, field: string): HttpCase => ({ handler, routeKey, request: { ...admin, body }, field });
const BINDINGS = 'POST /v1/admin/bindings';
const UNBIND = 'POST /v1/admin/unbind-tokens';
const DELETE_ACCOUNTS = 'POST /v1/admin/delete-accounts';

const userRouteCases: fc.Arbitrary<HttpCase> = fc.oneof(
  badToken.map((token) => putDevice({ pathParameters: { token }, body: { platform: 'ios' } }, 'path.token')),
  badPlatform.map((platform) => putDevice({ pathParameters: { token: 'fuzztoken1' }, body: { platform } }, 'body.platform')),
  badAccountType.map((accountType) => putDevice({ pathParameters: { token: 'fuzztoken1' }, body: { platform: 'android', accountType } }, 'body.accountType')),
  fc.tuple(pollutionKey, fc.string({ maxLength: 10 })).map(([key]) => putDevice({ pathParameters: { token: 'fuzztoken1' }, body: `{"platform":"ios","${key}":{"account":"victim-01"}}` }, 'body')),
  pollution.map((body) => putDevice({ pathParameters: { token: 'fuzztoken1' }, body }, 'body')),
  truncated({ platform: 'android', accountType: 3 }).map((body) => putDevice({ pathParameters: { token: 'fuzztoken1' }, body }, 'body')),
  wrongType.map((body) => putDevice({ pathParameters: { token: 'fuzztoken1' }, body: JSON.stringify(body) }, 'body')),
  badAccount.map((account) => putDevice({ account, pathParameters: { token: 'fuzztoken1' }, body: { platform: 'ios' } }, 'account')),
  fc.constant(putDevice({ account: '', pathParameters: { token: 'fuzztoken1' }, body: { platform: 'ios' } }, 'sub')),
  fc.string({ minLength: 4097, maxLength: 6000 }).map((pad) => putDevice({ pathParameters: { token: 'fuzztoken1' }, body: { platform: 'ios', pad } }, 'bytes')),
  badToken.map((token) => deleteDevice({ pathParameters: { token }, query: { platform: 'android' } }, 'path.token')),
  badPlatform.filter((p) => typeof p === 'string').map((platform) => deleteDevice({ pathParameters: { token: 'fuzztoken1' }, query: { platform: String(platform) } }, 'query.platform')),
  badAccountTypeParam.map((accountType) => deleteDevice({ pathParameters: { token: 'fuzztoken1' }, query: { platform: 'ios', accountType } }, 'query.accountType')),
  badAccount.map((account) => deleteDevice({ account, pathParameters: { token: 'fuzztoken1' }, query: { platform: 'ios' } }, 'account')),
  badAccountTypeParam.map((accountType): HttpCase => ({ handler: deleteAccount, routeKey: 'DELETE /v1/me', request: { ...user, query: { accountType } }, field: 'query.accountType' })),
  badAccount.map((account): HttpCase => ({ handler: deleteAccount, routeKey: 'DELETE /v1/me', request: { account }, field: 'account' })),
  badAccountTypeParam.map((accountType): HttpCase => ({ handler: query, routeKey: 'GET /v1/me/devices', request: { ...user, query: { accountType } }, field: 'query.accountType' })),
  badAccount.map((account): HttpCase => ({ handler: query, routeKey: 'GET /v1/me/devices', request: { account }, field: 'account' })),
  fc.oneof(fc.constantFrom('TPNS', 'ledger ', 'both', '', 'tpns\u0000', '__proto__'), fc.string({ maxLength: 8 }).filter((source) => source !== 'ledger' && source !== 'tpns')).map(
    (source): HttpCase => ({ handler: query, routeKey: 'GET /v1/me/devices', request: { ...user, query: { source } }, field: 'query.source' }),
  ),
);

const adminRouteCases: fc.Arbitrary<HttpCase> = fc.oneof(
  badToken.map((token) => post(login, BINDINGS, { items: [validItem, { ...validItem, token }] }, 'body.items.1.token')),
  badAccountField.map((account) => post(login, BINDINGS, { items: [{ ...validItem, account }] }, 'body.items.0.account')),
  badPlatform.map((platform) => post(login, BINDINGS, { items: [{ ...validItem, platform }] }, 'body.items.0.platform')),
  badAccountType.map((accountType) => post(login, BINDINGS, { items: [{ ...validItem, accountType }] }, 'body.items.0.accountType')),
  wrongType.map((items) => post(login, BINDINGS, { items }, 'body.items')),
  // `__proto__` is refused by the JSON parser itself (path `body`); the others as missing fields (`body.items.0.*`).
  pollutionKey.map((key) => post(login, BINDINGS, `{"items":[{"${key}":{"token":"fuzzvalidtoken01","account":"victim-01","platform":"ios"}}]}`, 'body')),
  pollution.map((body) => post(login, BINDINGS, body, 'body')),
  truncated({ items: [validItem] }).map((body) => post(login, BINDINGS, body, 'body')),
  badToken.map((token) => post(logout, UNBIND, { platform: 'ios', tokens: ['fuzzvalidtoken01', token] }, 'body.tokens.1')),
  badPlatform.map((platform) => post(logout, UNBIND, { platform, tokens: ['fuzzvalidtoken01'] }, 'body.platform')),
  wrongType.map((tokens) => post(logout, UNBIND, { platform: 'ios', tokens }, 'body.tokens')),
  truncated({ platform: 'ios', tokens: ['fuzzvalidtoken01'] }).map((body) => post(logout, UNBIND, body, 'body')),
  badAccountField.map((account) => post(deleteAccount, DELETE_ACCOUNTS, { accounts: [{ account }] }, 'body.accounts.0.account')),
  badAccountType.map((accountType) => post(deleteAccount, DELETE_ACCOUNTS, { accounts: [{ account: 'fuzz-user-01', accountType }] }, 'body.accounts.0.accountType')),
  wrongType.map((accounts) => post(deleteAccount, DELETE_ACCOUNTS, { accounts }, 'body.accounts')),
  pollution.map((body) => post(deleteAccount, DELETE_ACCOUNTS, body, 'body')),
  badAccount.map((account): HttpCase => ({ handler: query, routeKey: 'GET /v1/admin/erasures/{account}', request: { ...admin, pathParameters: { account } }, field: 'path.account' })),
  badAccountTypeParam.map((accountType): HttpCase => ({
    handler: query,
    routeKey: 'GET /v1/admin/erasures/{account}',
    request: { ...admin, pathParameters: { account: 'fuzz-user-01' }, query: { accountType } },
    field: 'query.accountType',
  })),
  // The admin routes need the scope: a user token is refused before the body is looked at.
  fc.constantFrom(BINDINGS, UNBIND, DELETE_ACCOUNTS).map((routeKey): HttpCase => ({
    handler: routeKey === BINDINGS ? login : routeKey === UNBIND ? logout : deleteAccount,
    routeKey,
    request: { ...user, body: { items: [validItem], platform: 'ios', tokens: ['fuzzvalidtoken01'], accounts: [{ account: 'victim-01' }] } },
    field: ADMIN_SCOPE,
  })),
  fc.constant<HttpCase>({ handler: query, routeKey: 'GET /v1/admin/erasures/{account}', request: { ...user, pathParameters: { account: 'victim-01' } }, field: ADMIN_SCOPE }),
);

interface Answer {
  statusCode: number;
  body: { error?: unknown; issues?: { path: string; message: string }[] };
}

async function invoke({ handler, routeKey, request }: HttpCase): Promise<Answer> {
  const result = (await handler(httpEvent(routeKey, request), lambdaContext())) as { statusCode: number; body: string };
  return { statusCode: result.statusCode, body: JSON.parse(result.body) as Answer['body'] };
}

/** A refusal naming `field`: an issue at or under it, or the error message mentioning it. */
function namesField(body: Answer['body'], field: string): boolean {
  const issues = body.issues ?? [];
  return issues.some((issue) => issue.path === field || issue.path.startsWith(`${field}.`)) || String(body.error).includes(field);
}

async function assertRefused(testCase: HttpCase): Promise<void> {
  casesTried += 1;
  const answer = await invoke(testCase);
  const context = `${testCase.routeKey} ${JSON.stringify(testCase.request).slice(0, 300)} -> ${answer.statusCode} ${JSON.stringify(answer.body).slice(0, 300)}`;
  expect(answer.statusCode, context).toBeGreaterThanOrEqual(400);
  expect(answer.statusCode, context).toBeLessThan(500);
  expect(typeof answer.body.error, context).toBe('string');
  expect(namesField(answer.body, testCase.field), context).toBe(true);
  expect(stack.tpns.requests(), context).toHaveLength(0);
  expect(ledgerWrites(), context).toBe(0);
  expect(Object.prototype, context).not.toHaveProperty('polluted');
  expect(Object.prototype, context).not.toHaveProperty('isAdmin');
}

async function expectNothingQueued(): Promise<void> {
  expect(await stack.sqs.depth()).toEqual({ queued: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
}

describe('fuzz: every HTTP route refuses hostile input with a 4xx naming the field', () => {
  it('user routes', async () => {
    await fc.assert(fc.asyncProperty(userRouteCases, assertRefused), { seed: SEED, numRuns: RUNS * 6 });
    await expectNothingQueued();
  });

  it('admin routes', async () => {
    await fc.assert(fc.asyncProperty(adminRouteCases, assertRefused), { seed: SEED + 1, numRuns: RUNS * 6 });
    await expectNothingQueued();
  });

  it(`admin bulks of ${MAX_BULK_ITEMS + 1} items and bodies over the limit`, async () => {
    const many = MAX_BULK_ITEMS + 1;
    const tokens = Array.from({ length: many }, (_, i) => `fuzzbulk${i}`);
    await assertRefused(post(login, BINDINGS, { items: tokens.map((token) => ({ ...validItem, token })) }, 'body.items'));
    await assertRefused(post(logout, UNBIND, { platform: 'ios', tokens }, 'body.tokens'));
    await assertRefused(post(deleteAccount, DELETE_ACCOUNTS, { accounts: tokens.map((account) => ({ account })) }, 'body.accounts'));
    const huge = JSON.stringify({ items: [validItem], pad: 'x'.repeat(4 * 1024 * 1024) });
    for (const routeKey of [BINDINGS, UNBIND, DELETE_ACCOUNTS]) {
      await assertRefused(post(routeKey === BINDINGS ? login : routeKey === UNBIND ? logout : deleteAccount, routeKey, huge, 'bytes'));
    }
    await expectNothingQueued();
  });
});

// ---- events ---------------------------------------------------------------------------------

type DeviceDetail = { account: unknown; token: unknown; platform: unknown; accountType?: unknown };

const deviceDetailCases: fc.Arbitrary<{ detail: DeviceDetail; field: string }> = fc.oneof(
  badToken.map((token) => ({ detail: { account: 'fuzz-user-01', token, platform: 'ios' }, field: 'detail.token' })),
  badAccountField.map((account) => ({ detail: { account, token: 'fuzztoken1', platform: 'ios' }, field: 'detail.account' })),
  badPlatform.map((platform) => ({ detail: { account: 'fuzz-user-01', token: 'fuzztoken1', platform }, field: 'detail.platform' })),
  badAccountType.map((accountType) => ({ detail: { account: 'fuzz-user-01', token: 'fuzztoken1', platform: 'ios', accountType }, field: 'detail.accountType' })),
  wrongType.map((token) => ({ detail: { account: 'fuzz-user-01', token, platform: 'android' }, field: 'detail.token' })),
);

async function assertRejected(run: () => Promise<unknown>, field: string): Promise<void> {
  casesTried += 1;
  const error = await run().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error, `expected a rejection naming ${field}`).toBeInstanceOf(Error);
  expect((error as Error).message).toContain(field);
  expect(stack.tpns.requests()).toHaveLength(0);
  expect(ledgerWrites()).toBe(0);
  expect(Object.prototype).not.toHaveProperty('polluted');
}

describe('fuzz: every event handler rejects hostile events naming the field', () => {
  it('EventBridge account.login / account.logout / account.deleted and Auth0 sdu', async () => {
    const handlers = { 'account.login': login, 'account.logout': logout } as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('account.login', 'account.logout'), deviceDetailCases, async (type, { detail, field }) => {
        await assertRejected(() => handlers[type](accountEvent(type, detail), lambdaContext()), field);
      }),
      { seed: SEED + 2, numRuns: RUNS * 3 },
    );
    await fc.assert(
      fc.asyncProperty(badAccountField, async (account) => {
        await assertRejected(() => deleteAccount(accountEvent('account.deleted', { account }), lambdaContext()), 'detail.account');
        await assertRejected(() => deleteAccount(auth0DeletionEvent(account), lambdaContext()), 'detail.data.user_id');
      }),
      { seed: SEED + 3, numRuns: RUNS },
    );
    await expectNothingQueued();
  });

  it('the Cognito trigger hands a hostile event back unchanged and binds nothing', async () => {
    await fc.assert(
      fc.asyncProperty(badToken, badPlatform, async (token, platform) => {
        casesTried += 1;
        const event = cognitoSignInEvent('fuzz-user-01', token, String(platform));
        expect(await login(structuredClone(event), lambdaContext())).toEqual(event);
        expect(stack.tpns.requests()).toHaveLength(0);
        expect(ledgerWrites()).toBe(0);
      }),
      { seed: SEED + 4, numRuns: RUNS },
    );
    await expectNothingQueued();
  });

  it('the worker dead-letters hostile queue messages with the reason, calling TPNS and writing the ledger for none', async () => {
    const tokenKey = (token: unknown, platform: unknown = 'ios') => ({ kind: 'token', platform, token });
    const message = (fields: Record<string, unknown>) => JSON.stringify({ v: 2, phase: 'push', correlationId: 'c', attempt: 0, keys: [tokenKey('fuzztoken1')], ...fields });
    const bodies = fc.oneof(
      fc.string({ maxLength: 200 }),
      truncated({ v: 2, phase: 'push', correlationId: 'c', attempt: 0, keys: [tokenKey('fuzztoken1')] }),
      badToken.map((token) => message({ keys: [tokenKey(token)] })),
      badPlatform.map((platform) => message({ phase: 'verify', keys: [tokenKey('fuzztoken1', platform)] })),
      badAccount.map((account) => message({ keys: [{ kind: 'erasure', account }] })),
      badAccountType.map((accountType) => message({ keys: [{ kind: 'erasure', account: 'fuzz-user-01', accountType }] })),
      fc.constantFrom('delete', 'bind', '', 'PUSH', '__proto__').map((phase) => message({ phase })),
      fc.constantFrom(1, 3, '2', null).map((v) => message({ v })),
      fc.constantFrom(-1, 1.5, '0', null).map((attempt) => message({ attempt })),
      fc.constant(message({ keys: [] })),
      fc.constant(message({ keys: Array.from({ length: MAX_KEYS_PER_MESSAGE + 1 }, (_, i) => tokenKey(`t${i}xx`)) })),
      badToken.map((token) => JSON.stringify({ v: 2, phase: 'record', correlationId: 'c', attempt: 0, signIns: [{ platform: 'ios', token, account: 'fuzz-user-01', v: 1 }] })),
      // The FIFO design's v1 work message: a worker of this version dead-letters it.
      fc.constant(JSON.stringify({ v: 1, kind: 'bind', platform: 'ios', correlationId: 'c', acceptedAt: 'now', items: [{ token: 'fuzztoken1', account: 'fuzz-user-01' }] })),
      pollution,
      wrongType.map((value) => JSON.stringify(value)),
    );
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        casesTried += 1;
        sent += 1;
        const answer = (await bindWorker({ Records: [sqsRecord(body)] }, lambdaContext())) as { batchItemFailures: unknown[] };
        expect(answer.batchItemFailures).toEqual([]);
        expect(stack.tpns.requests()).toHaveLength(0);
        expect(ledgerWrites()).toBe(0);
      }),
      { seed: SEED + 5, numRuns: RUNS },
    );
    const letters = (await stack.drainDeadLetters()) as { reason: { code: string; message: string } }[];
    expect(letters).toHaveLength(sent);
    for (const letter of letters) {
      expect(letter.reason.code).toBe('INVALID_MESSAGE');
      expect(letter.reason.message.length).toBeGreaterThan(0);
    }
  });
});
