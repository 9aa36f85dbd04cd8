import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoLedger, LEDGER_CONCURRENCY } from '../../../lib/ledger/dynamo-ledger.js';
import { LedgerUnavailableError } from '../../../lib/ledger/records.js';
import { InvalidDynamoFaultRuleError } from '../../../local/dynamodb/fault-proxy.js';
import type { DynamoFaultKind } from '../../../local/dynamodb/fault-proxy.js';
import { LocalDynamoPortInUseError, localDynamoClient, startLocalDynamo } from '../../../local/dynamodb/local-dynamo.js';
import type { LocalDynamo } from '../../../local/dynamodb/local-dynamo.js';
import { readServerlessConfig } from '../../../local/serverless-config.js';

let dynamo: LocalDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => dynamo.close());
beforeEach(() => {
  // One attempt: an injected error reaches the test instead of being retried away.
  client = localDynamoClient(dynamo.endpoint, { maxAttempts: 1 });
});
afterEach(() => {
  client.destroy();
  dynamo.faults.clear();
  dynamo.faults.resetCounters();
});

const key = (pk: string, sk = 'intent') => ({ pk: { S: pk }, sk: { S: sk } });
const getItem = (pk: string) => client.send(new GetItemCommand({ TableName: dynamo.tableName, Key: key(pk) }));
const putItem = (pk: string) => client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: key(pk) }));
/** Whether the call was failed by an injected fault (true) or went through (false). */
const faulted = (call: Promise<unknown>) => call.then(() => false, () => true);

describe('startLocalDynamo: the table', () => {
  it('is created as serverless.yml declares it: pk/sk keys, the unsettled index, on demand', async () => {
    // What serverless.yml declares is pinned by test/infra/serverless-config.test.ts; here, that the table is made from it.
    const { table } = readServerlessConfig();
    const { Table } = await client.send(new DescribeTableCommand({ TableName: dynamo.tableName }));
    expect(dynamo.tableName).toBe(table.name);
    expect(Table).toMatchObject({ TableName: table.name, TableStatus: 'ACTIVE', KeySchema: table.keySchema });
    expect(Table?.AttributeDefinitions).toEqual(expect.arrayContaining(table.attributeDefinitions));
    expect(Table?.GlobalSecondaryIndexes?.map(({ IndexName, KeySchema, Projection, IndexStatus }) => ({ IndexName, KeySchema, Projection, IndexStatus }))).toEqual(
      table.globalSecondaryIndexes?.map((index) => ({ ...index, IndexStatus: 'ACTIVE' })),
    );
    expect(table.globalSecondaryIndexes?.map(({ IndexName }) => IndexName)).toEqual(['unsettled']);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('listens on loopback behind the proxy and names the env a process needs', () => {
    expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dynamo.env).toEqual({
      BINDINGS_TABLE: dynamo.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
  });

  it('has no TTL locally (dynalite has no UpdateTimeToLive): expired items are the readers\' to ignore', async () => {
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: dynamo.tableName }));
    expect(TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
  });
});

describe('an SDK client configured by AWS_ENDPOINT_URL_DYNAMODB alone', () => {
  const saved: Record<string, string | undefined> = {};
  let documents: DynamoDBDocumentClient;
  beforeEach(() => {
    for (const [name, value] of Object.entries(dynamo.env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    // No endpoint, region or credentials here: the SDK reads them from the environment.
    documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  });
  afterEach(() => {
    documents.destroy();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('reaches the local table through the proxy, and conditional writes hold', async () => {
    const TableName = process.env.BINDINGS_TABLE;
    const Key = { pk: 'token#android#t-1', sk: 'intent' };
    await documents.send(new PutCommand({ TableName, Item: { ...Key, v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await expect(
      documents.send(new PutCommand({ TableName, Item: { ...Key, v: 9 }, ConditionExpression: 'attribute_not_exists(pk)' })),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);

    const raise = (v: number) =>
      documents.send(
        new UpdateCommand({ TableName, Key, UpdateExpression: 'SET v = :v', ConditionExpression: 'v < :v', ExpressionAttributeValues: { ':v': v } }),
      );
    await raise(5);
    await expect(raise(3)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const { Item } = await documents.send(new GetCommand({ TableName, Key, ConsistentRead: true }));
    expect(Item).toEqual({ ...Key, v: 5 });
    // Counted by the proxy: the SDK did use AWS_ENDPOINT_URL_DYNAMODB.
    expect(dynamo.faults.requests()).toEqual({ PutItem: 2, UpdateItem: 2, GetItem: 1 });
  });
});

describe('fault proxy', () => {
  const ERRORS: [DynamoFaultKind, status: number, sdkClass: abstract new (...args: never[]) => Error][] = [
    ['ProvisionedThroughputExceededException', 400, ProvisionedThroughputExceededException],
    ['ThrottlingException', 400, ThrottlingException],
    ['InternalServerError', 500, InternalServerError],
  ];

  it.each(ERRORS)('answers %s (HTTP %i): the SDK raises its own error class', async (kind, status, sdkClass) => {
    dynamo.faults.add({ kind, count: 1 });
    const error: unknown = await putItem('fault').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(sdkClass);
    expect(error).toMatchObject({ name: kind, $metadata: { httpStatusCode: status }, $fault: status === 500 ? 'server' : 'client' });
    await expect(putItem('fault')).resolves.toBeDefined();
  });

  it('uses a custom message when the rule gives one', async () => {
    dynamo.faults.add({ kind: 'ThrottlingException', message: 'slow down, test' });
    await expect(getItem('x')).rejects.toThrow('slow down, test');
  });

  it('lets the SDK retry an injected throttle as it would a real one', async () => {
    const retrying = localDynamoClient(dynamo.endpoint, { maxAttempts: 2 });
    dynamo.faults.add({ kind: 'ProvisionedThroughputExceededException', count: 1 });
    await expect(retrying.send(new GetItemCommand({ TableName: dynamo.tableName, Key: key('retried') }))).resolves.toBeDefined();
    retrying.destroy();
    expect(dynamo.faults.requests()).toEqual({ GetItem: 2 });
    expect(dynamo.faults.injected()).toEqual({ GetItem: 1 });
  });

  it('adds latency, then answers normally', async () => {
    // Wide margins: a loaded CI machine can take a few hundred ms for a plain call.
    dynamo.faults.add({ kind: 'latency', latencyMs: 1_000, count: 1 });
    const started = Date.now();
    await putItem('slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    const again = Date.now();
    await putItem('slow');
    expect(Date.now() - again).toBeLessThan(900);
  });

  it('latencyAt answer: dynalite serves the request at once, its answer comes late', async () => {
    dynamo.faults.add({ kind: 'latency', latencyAt: 'answer', latencyMs: 1_500, count: 1, operation: 'PutItem' });
    const started = Date.now();
    const slow = putItem('served-early');
    // Written already while its answer is held: another client's read sees it.
    await vi.waitFor(async () => expect((await getItem('served-early')).Item).toBeDefined(), { timeout: 1_200, interval: 20 });
    expect(Date.now() - started).toBeLessThan(1_490);
    await slow;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_490);
  });

  it('lets the first `after` matching requests through, then fires', async () => {
    dynamo.faults.add({ kind: 'InternalServerError', operation: 'GetItem', after: 2, count: 1 });
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await faulted(getItem('x')));
    expect(outcomes).toEqual([false, false, true, false]);
    expect(() => dynamo.faults.add({ kind: 'InternalServerError', after: -1 })).toThrow(/after must be a non-negative integer/);
  });

  it('filters by operation, given as a name or as the X-Amz-Target', async () => {
    dynamo.faults.add({ kind: 'ThrottlingException', operation: 'PutItem' });
    dynamo.faults.add({ kind: 'InternalServerError', operation: 'DynamoDB_20120810.UpdateItem' });
    expect(dynamo.faults.list().map((fault) => fault.operation)).toEqual(['PutItem', 'UpdateItem']);
    await expect(getItem('x')).resolves.toBeDefined();
    await expect(putItem('x')).rejects.toBeInstanceOf(ThrottlingException);
  });

  it('spends a counted rule after `count` requests', async () => {
    const rule = dynamo.faults.add({ kind: 'InternalServerError', count: 2 });
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await faulted(getItem('x')));
    expect(outcomes).toEqual([true, true, false, false]);
    expect(dynamo.faults.list()).toEqual([]);
    expect(dynamo.faults.remove(rule.id)).toBe(false);
  });

  it('picks requests by probability from a seeded PRNG: the same seed, the same requests', async () => {
    const run = async () => {
      dynamo.faults.clear();
      dynamo.faults.add({ kind: 'ThrottlingException', probability: 0.5, seed: 42 });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 24; i++) outcomes.push(await faulted(getItem('x')));
      return outcomes;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });

  it('combines probability and count: at most `count` requests, chosen by probability', async () => {
    dynamo.faults.add({ kind: 'ThrottlingException', probability: 0.5, count: 3, seed: 7 });
    const outcomes: boolean[] = [];
    for (let i = 0; i < 30; i++) outcomes.push(await faulted(getItem('x')));
    expect(outcomes.filter(Boolean)).toHaveLength(3);
    expect(dynamo.faults.injected()).toEqual({ GetItem: 3 });
  });

  it('counts requests per operation, faulted ones included, until reset', async () => {
    dynamo.faults.add({ kind: 'ThrottlingException', operation: 'GetItem', count: 1 });
    await faulted(getItem('a'));
    await getItem('a');
    await putItem('a');
    expect(dynamo.faults.requests()).toEqual({ GetItem: 2, PutItem: 1 });
    expect(dynamo.faults.injected()).toEqual({ GetItem: 1 });
    expect(dynamo.faults.peakInFlight()).toBe(1); // one at a time
    dynamo.faults.resetCounters();
    expect(dynamo.faults.requests()).toEqual({});
    expect(dynamo.faults.injected()).toEqual({});
  });

  it('unprocessed: a batch is served in part, the rest named unprocessed, as DynamoDB does when it throttles part of one', async () => {
    dynamo.faults.add({ kind: 'unprocessed', operation: 'BatchWriteItem', count: 1 });
    const puts = ['u-1', 'u-2', 'u-3'].map((pk) => ({ PutRequest: { Item: key(pk) } }));
    const written = await client.send(new BatchWriteItemCommand({ RequestItems: { [dynamo.tableName]: puts } }));
    expect(written.UnprocessedItems).toEqual({ [dynamo.tableName]: puts.slice(2) });
    expect([(await getItem('u-1')).Item, (await getItem('u-2')).Item, (await getItem('u-3')).Item].map(Boolean)).toEqual([true, true, false]);
    dynamo.faults.add({ kind: 'unprocessed', operation: 'BatchGetItem', count: 1 });
    const read = await client.send(new BatchGetItemCommand({ RequestItems: { [dynamo.tableName]: { Keys: [key('u-1'), key('u-2')], ConsistentRead: true } } }));
    expect(read.Responses?.[dynamo.tableName]).toEqual([key('u-1')]);
    expect(read.UnprocessedKeys).toEqual({ [dynamo.tableName]: { Keys: [key('u-2')], ConsistentRead: true } });
    expect(dynamo.faults.injected()).toEqual({ BatchWriteItem: 1, BatchGetItem: 1 });
  });

  it('unprocessed: dynalite refusing the half it serves answers with its own error, not a partial success', async () => {
    dynamo.faults.add({ kind: 'unprocessed', operation: 'BatchGetItem', count: 1 });
    // A key without the table's sort key: dynalite refuses the request it is sent.
    const send = client.send(new BatchGetItemCommand({ RequestItems: { [dynamo.tableName]: { Keys: [{ pk: { S: 'u-bad' } }, key('u-1')] } } }));
    await expect(send).rejects.toMatchObject({ name: 'ValidationException' });
    expect(dynamo.faults.injected()).toEqual({ BatchGetItem: 1 });
  });

  it('refuses a rule that could never mean anything', () => {
    expect(() => dynamo.faults.add({ kind: 'unprocessed' })).toThrow(/unprocessed needs operation BatchGetItem or BatchWriteItem/);
    expect(() => dynamo.faults.add({ kind: 'ThrottlingException', probability: 2 })).toThrow(InvalidDynamoFaultRuleError);
    expect(() => dynamo.faults.add({ kind: 'ThrottlingException', count: 0 })).toThrow(/count/);
    // @ts-expect-error: not an operation (a typo must not silently match nothing)
    expect(() => dynamo.faults.add({ kind: 'ThrottlingException', operation: 'UpdateItme' })).toThrow(/operation/);
    expect(dynamo.faults.list()).toEqual([]);
  });
});

describe('the ledger against the proxy', () => {
  it(`keeps at most LEDGER_CONCURRENCY (${LEDGER_CONCURRENCY}) DynamoDB calls in flight, however many it is asked for at once`, async () => {
    const saved = { ...process.env };
    Object.assign(process.env, dynamo.env);
    try {
      const ledger = new DynamoLedger({ tableName: dynamo.tableName, erasureKey: 'test-key', retentionDays: 30 });
      dynamo.faults.add({ kind: 'latency', latencyMs: 100, operation: 'GetItem' }); // calls overlap
      const reads = await Promise.all(Array.from({ length: 200 }, (_, i) => ledger.getToken({ platform: 'android', token: `concurrency-${i}` })));
      expect(reads.every((record) => record === undefined)).toBe(true);
      expect(dynamo.faults.requests()).toEqual({ GetItem: 200 });
      expect(dynamo.faults.peakInFlight()).toBeGreaterThan(LEDGER_CONCURRENCY / 2);
      expect(dynamo.faults.peakInFlight()).toBeLessThanOrEqual(LEDGER_CONCURRENCY);
    } finally {
      process.env = saved;
    }
  });

  it('dates reads from when their first request left, after the wait for a free call: a send window does not count that wait', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, dynamo.env);
    try {
      const ledger = new DynamoLedger({ tableName: dynamo.tableName, erasureKey: 'test-key', retentionDays: 30 });
      const key = { platform: 'android' as const, token: 'sent-at' };
      await ledger.recordSignIn(key, { account: 'sent-at-user' }, { claim: false });
      // Every call slot held for 400 ms: the read waits for one.
      dynamo.faults.add({ kind: 'latency', latencyMs: 400, operation: 'GetItem' });
      const blockers = Promise.all(Array.from({ length: LEDGER_CONCURRENCY }, (_, i) => ledger.getToken({ platform: 'android', token: `busy-${i}` })));
      const asked = Date.now();
      // Only the timed reads count: the calls already waiting (started outside) do not.
      const { value: read, sentAt } = await ledger.timed(() => ledger.readForPush([key], [{ account: 'sent-at-user' }]));
      await blockers;
      expect(read.records.get('android:sent-at')?.entries).toMatchObject([{ account: 'sent-at-user' }]);
      expect(sentAt - asked).toBeGreaterThanOrEqual(300);
      expect(sentAt).toBeLessThanOrEqual(Date.now());
      // No request at all: dated from the start, never later.
      const before = Date.now();
      expect((await ledger.timed(async () => 'nothing read')).sentAt).toBeGreaterThanOrEqual(before);
    } finally {
      process.env = saved;
    }
  });
});

describe('the ledger and unprocessed batch keys', () => {
  const withLedger = async (run: (ledger: DynamoLedger) => Promise<void>) => {
    const saved = { ...process.env };
    Object.assign(process.env, dynamo.env);
    try {
      await run(new DynamoLedger({ tableName: dynamo.tableName, erasureKey: 'test-key', retentionDays: 30 }));
    } finally {
      process.env = saved;
    }
  };
  const keys = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => ({ platform: 'android' as const, token: `${prefix}-${i}` }));

  it('asks again for what DynamoDB left unprocessed, until every key is read and every item written', async () => {
    await withLedger(async (ledger) => {
      const tokens = keys('unprocessed', 8);
      dynamo.faults.add({ kind: 'unprocessed', operation: 'BatchWriteItem', count: 2 });
      await ledger.indexAccount(tokens.map((token) => ({ key: token, ref: { account: 'unprocessed-user' } })));
      expect((await ledger.tokensOfAccount({ account: 'unprocessed-user' })).map(({ token }) => token).sort()).toEqual(tokens.map(({ token }) => token).sort());
      for (const token of tokens) await ledger.recordSignIn(token, { account: 'unprocessed-user' }, { claim: false });
      dynamo.faults.add({ kind: 'unprocessed', operation: 'BatchGetItem', count: 3 });
      expect((await ledger.getTokens(tokens)).size).toBe(8);
      expect(dynamo.faults.injected()).toEqual({ BatchWriteItem: 2, BatchGetItem: 3 });
    });
  });

  it('reads 250 keys in parallel BatchGetItem calls of at most 100, each asking again for what was left unprocessed', async () => {
    await withLedger(async (ledger) => {
      const tokens = keys('parallel', 250);
      for (const token of tokens) await ledger.recordSignIn(token, { account: 'parallel-user' }, { claim: false });
      const before = dynamo.faults.requests().BatchGetItem ?? 0;
      dynamo.faults.add({ kind: 'unprocessed', operation: 'BatchGetItem', count: 2 });
      const records = await ledger.getTokens([...tokens, ...keys('parallel-missing', 5)], { parallel: true });
      expect([...records.values()].map(({ token }) => token).sort()).toEqual(tokens.map(({ token }) => token).sort());
      // Three calls of 100, 100 and 55 keys, and one more for each of the two left partly unprocessed.
      expect((dynamo.faults.requests().BatchGetItem ?? 0) - before).toBe(5);
    });
  });

  it('gives up with LedgerUnavailableError (a 503 upstream) when DynamoDB keeps leaving keys unprocessed', async () => {
    await withLedger(async (ledger) => {
      dynamo.faults.add({ kind: 'unprocessed', operation: 'BatchGetItem' });
      // Half of what is left each round: 64 keys still leave 2 unprocessed after the ledger's 5 rounds.
      await expect(ledger.getTokens(keys('starved', 64))).rejects.toBeInstanceOf(LedgerUnavailableError);
      await expect(ledger.getTokens(keys('starved', 164), { parallel: true })).rejects.toBeInstanceOf(LedgerUnavailableError);
    });
  });
});

describe('startLocalDynamo: lifecycle', () => {
  it('reports a port in use as a named error', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const { port } = blocker.address() as AddressInfo;
    await expect(startLocalDynamo({ port })).rejects.toBeInstanceOf(LocalDynamoPortInUseError);
    await new Promise((resolve) => blocker.close(resolve));
  });

  it('listens on a given port, and frees it on close (twice is fine)', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => probe.once('listening', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));

    const own = await startLocalDynamo({ port });
    expect(own.endpoint).toBe(`http://127.0.0.1:${port}`);
    const ownClient = localDynamoClient(own.endpoint);
    await ownClient.send(new PutItemCommand({ TableName: own.tableName, Item: key('mine') }));
    ownClient.destroy();
    await own.close();
    await own.close();
    const again = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve, reject) => again.once('listening', resolve).once('error', reject));
    await new Promise((resolve) => again.close(resolve));
  });
});
