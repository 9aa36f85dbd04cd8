/**
 * local/serverless-config.ts reads serverless.yml for the local stack: what it returns is what
 * the emulators create and the event source runs with, so check it against the file, and check
 * that a serverless.yml Lambda or the local table could not honour fails here, loudly.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVERLESS_YML, httpApiRoutes, readServerlessConfig } from '../../local/serverless-config.js';

const original = readFileSync(SERVERLESS_YML, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'serverless-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** serverless.yml with one exact piece of text replaced (the piece must be there). */
function variant(name: string, search: string, replacement: string): string {
  expect(original, `serverless.yml no longer contains ${JSON.stringify(search)}`).toContain(search);
  const path = join(dir, `${name}.yml`);
  writeFileSync(path, original.replace(search, replacement));
  return path;
}

describe('readServerlessConfig', () => {
  const config = readServerlessConfig();

  it('returns the ledger table as CreateTable takes it', () => {
    expect(config.table).toEqual({
      resource: 'BindingsTable',
      name: 'tpns-account-sync-dev-bindings',
      attributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'uS', AttributeType: 'S' },
        { AttributeName: 'uAt', AttributeType: 'N' },
      ],
      keySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      billingMode: 'PAY_PER_REQUEST',
      ttlAttribute: 'expiresAt',
      globalSecondaryIndexes: [
        {
          IndexName: 'unsettled',
          KeySchema: [
            { AttributeName: 'uS', KeyType: 'HASH' },
            { AttributeName: 'uAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
  });

  it('names the table, queues and all by the stage', () => {
    const staged = readServerlessConfig(SERVERLESS_YML, { stage: 'prod' });
    expect(staged.table.name).toBe('tpns-account-sync-prod-bindings');
    expect(staged.bindingQueue.name).toBe('tpns-account-sync-prod-bindings');
  });

  it('returns standard queues: plain attributes, no FIFO ones, the redrive count apart', () => {
    expect(config.bindingQueue).toEqual({
      resource: 'BindingQueue',
      name: 'tpns-account-sync-dev-bindings',
      attributes: { VisibilityTimeout: '360', MessageRetentionPeriod: '1209600' },
    });
    expect(config.deadLetterQueue).toEqual({
      resource: 'BindingDeadLetterQueue',
      name: 'tpns-account-sync-dev-bindings-dlq',
      attributes: { MessageRetentionPeriod: '1209600' },
    });
    expect(config.maxReceiveCount).toBe(5);
  });

  it("returns the worker's event source settings, batching window included", () => {
    expect(config.worker).toEqual({
      functionName: 'bindWorker',
      handler: 'functions/bind-worker.handler',
      batchSize: 100,
      maximumBatchingWindowSeconds: 1,
      maximumConcurrency: 5,
      timeoutSeconds: 60,
      memoryMb: 1024,
      reportBatchItemFailures: true,
      scheduleRateSeconds: 300,
    });
  });

  it("takes a function's own memorySize over the provider's: a vCPU for the bulks, 256 MB for the rest", () => {
    const memory = Object.fromEntries(httpApiRoutes(config).map((route) => [`${route.method} ${route.path}`, `${route.functionName} ${route.memoryMb}`]));
    expect(memory).toEqual({
      'PUT /v1/me/devices/{token}': 'login 256',
      'DELETE /v1/me/devices/{token}': 'logout 256',
      'DELETE /v1/me': 'deleteAccount 256',
      'GET /v1/me/devices': 'query 256',
      'GET /v1/admin/erasures/{account}': 'query 256',
      'POST /v1/admin/bindings': 'bulkBind 1769',
      'POST /v1/admin/unbind-tokens': 'bulkUnbindTokens 1769',
      'POST /v1/admin/delete-accounts': 'bulkDeleteAccounts 1769',
    });
  });

  it('resolves the new provider environment', () => {
    const environment = (config.document.provider as { environment: Record<string, unknown> }).environment;
    expect(environment).toMatchObject({
      BINDINGS_TABLE: { Ref: 'BindingsTable' },
      VERIFY_DELAY_SECONDS: 15,
      ERASURE_RETENTION_DAYS: 30,
      ERASURE_KEY_PARAM: '/tpns-account-sync/erasure-key',
    });
  });

  it('routes GET /v1/admin/erasures/{account} to query, behind the JWT authorizer and the admin scope', () => {
    const route = httpApiRoutes(config).find((candidate) => candidate.path === '/v1/admin/erasures/{account}');
    expect(route).toEqual({
      functionName: 'query',
      handler: 'functions/query.handler',
      method: 'GET',
      path: '/v1/admin/erasures/{account}',
      authorizer: { name: 'jwt', scopes: ['tpns/admin'] },
      timeoutSeconds: 10,
      memoryMb: 256,
    });
  });
});

describe('readServerlessConfig refuses what Lambda or the local table could not honour', () => {
  it('a batch over 10 without a batching window of at least 1 s (Lambda refuses the mapping)', () => {
    const path = variant('no-window', 'maximumBatchingWindow: 1', 'maximumBatchingWindow: 0');
    expect(() => readServerlessConfig(path)).toThrow(/maximumBatchingWindow must be at least 1 when batchSize is over 10/);
  });

  it('a batch size or window beyond Lambda\'s limits', () => {
    expect(() => readServerlessConfig(variant('huge-batch', 'workerBatchSize: 100', 'workerBatchSize: 10001'))).toThrow(/batchSize must be an integer from 1 to 10000/);
    expect(() => readServerlessConfig(variant('long-window', 'maximumBatchingWindow: 1', 'maximumBatchingWindow: 301'))).toThrow(/from 0 to 300/);
  });

  it('a local secondary index, which the local table would silently lack', () => {
    const path = variant(
      'lsi',
      '        BillingMode: PAY_PER_REQUEST\n',
      '        BillingMode: PAY_PER_REQUEST\n        LocalSecondaryIndexes:\n          - { IndexName: byState, KeySchema: [{ AttributeName: pk, KeyType: HASH }, { AttributeName: uAt, KeyType: RANGE }], Projection: { ProjectionType: KEYS_ONLY } }\n',
    );
    expect(() => readServerlessConfig(path)).toThrow(/LocalSecondaryIndexes is not read/);
  });

  it('a global secondary index on an attribute the table does not define', () => {
    const path = variant('gsi-undefined', "          - { AttributeName: uAt, AttributeType: N }\n", '');
    expect(() => readServerlessConfig(path)).toThrow(/AttributeDefinitions must define uAt \(a key of index unsettled\)/);
  });

  it('a schedule that is not rate(<n> minutes|hours|days)', () => {
    expect(() => readServerlessConfig(variant('cron', 'sweepRate: rate(5 minutes)', "sweepRate: 'cron(0 * * * ? *)'"))).toThrow(/schedule must be rate\(<n> minutes\|hours\|days\)/);
    expect(() => readServerlessConfig(variant('plural', 'sweepRate: rate(5 minutes)', 'sweepRate: rate(1 minutes)'))).toThrow(/rate\(1 minute\)/);
  });

  it('a provisioned table without its throughput (CloudFormation would refuse it too)', () => {
    const path = variant('provisioned', 'BillingMode: PAY_PER_REQUEST', 'BillingMode: PROVISIONED');
    expect(() => readServerlessConfig(path)).toThrow(/ProvisionedThroughput is required/);
  });

  it('a table without its key schema', () => {
    const path = variant('no-keys', '        KeySchema:\n', '        KeySchemaX:\n');
    expect(() => readServerlessConfig(path)).toThrow(/resources\.Resources\.BindingsTable\.Properties\.KeySchema/);
  });
});

const run = promisify(execFile);
/** `osls print` loads the framework and its plugins: about 3 s and 280 MB (the resolver: ~35 ms). */
const OSLS_PRINT_TIMEOUT_MS = 60_000;

function record(value: unknown, path: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path} is not an object: ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

describe('readServerlessConfig resolves serverless.yml as the framework does', () => {
  // The resolver is hand-written because osls print costs seconds per stack start
  // (docs/architecture.md, "Why local/ is hand-written"); this keeps it honest.
  it('equals `osls print` but for what the framework adds, which the local stack does not read', async () => {
    const root = dirname(SERVERLESS_YML);
    const { stdout } = await run(join(root, 'node_modules/.bin/osls'), ['print', '--format', 'json', '--stage', 'dev'], {
      cwd: root,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      timeout: OSLS_PRINT_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    const printed = record(JSON.parse(stdout), 'osls print');
    const resolved = record(structuredClone(readServerlessConfig().document), 'document');

    // Added by the framework: deployment bookkeeping and Lambda function names.
    const printedProvider = record(printed.provider, 'provider');
    expect(printedProvider.versionFunctions).toBe(true);
    delete printedProvider.versionFunctions;
    const printedPackage = record(printed.package, 'package');
    expect(printedPackage.artifactsS3KeyDirname).toBe('serverless/tpns-account-sync/dev/code-artifacts');
    delete printedPackage.artifactsS3KeyDirname;
    for (const [name, definition] of Object.entries(record(printed.functions, 'functions'))) {
      const fn = record(definition, `functions.${name}`);
      expect(fn.name).toBe(`tpns-account-sync-dev-${name}`);
      delete fn.name;
    }
    // Rewritten by the framework: Lambda environment values become strings (the local stack
    // String()s them too), and a one-audience list becomes its string (the local authorizer
    // checks its own development audience, not this one).
    const environment = record(record(resolved.provider, 'provider').environment, 'provider.environment');
    for (const [name, value] of Object.entries(environment)) if (typeof value === 'number') environment[name] = String(value);
    const jwt = (document: Record<string, unknown>) => record(record(record(record(document.provider, 'provider').httpApi, 'httpApi').authorizers, 'authorizers').jwt, 'jwt');
    expect(jwt(resolved).audience).toEqual([jwt(printed).audience]);
    jwt(printed).audience = jwt(resolved).audience;

    expect(resolved).toEqual(printed);
  }, OSLS_PRINT_TIMEOUT_MS + 5_000);
});
