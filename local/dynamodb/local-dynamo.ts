/**
 * A DynamoDB-compatible server in this process (dynalite, in memory), on 127.0.0.1 only, with
 * the ledger table created as serverless.yml declares it (name, attributes, key schema, billing
 * mode), behind the fault proxy (fault-proxy.ts): `endpoint` and `env` point at the proxy, so
 * every SDK client that reads AWS_ENDPOINT_URL_DYNAMODB can be throttled or slowed by a test.
 *
 * What dynalite does not have, and so the local table lacks:
 * - TTL: dynalite has no UpdateTimeToLive, so it is skipped and expired items stay until deleted.
 *   DynamoDB itself deletes them only within days of `expiresAt`, so readers must treat an item
 *   past its `expiresAt` as absent anyway; locally that is the only expiry there is.
 * - point-in-time recovery, encryption at rest: nothing to emulate for a table in memory.
 * - transactions (TransactWriteItems, TransactGetItems): not implemented by dynalite.
 *
 * Why hand-written: only the wiring; dynalite is the DynamoDB server (docs/architecture.md, "Why local/ is hand-written").
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import dynalite from 'dynalite';
import { readServerlessConfig } from '../serverless-config.js';
import type { ServerlessConfig, TableDefinition } from '../serverless-config.js';
import { LOCAL_CREDENTIALS, LOCAL_SQS_REGION } from '../sqs/client.js';
import { startFaultProxy } from './fault-proxy.js';
import type { DynamoFaults, FaultProxy } from './fault-proxy.js';

export interface LocalDynamoOptions {
  /** Port of `endpoint` (the fault proxy); default 0: any free port. dynalite itself takes any free port. */
  port?: number;
  /** Default: read from the repository's serverless.yml. */
  config?: ServerlessConfig;
  /** Seed of the fault rules' PRNGs when a rule names none; default 1. */
  faultSeed?: number;
}

/** What points a process (a handler, the CLI, an SDK client) at the local table. */
export interface LocalDynamoEnv {
  BINDINGS_TABLE: string;
  AWS_ENDPOINT_URL_DYNAMODB: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
}

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>`: the fault proxy in front of dynalite. */
  endpoint: string;
  tableName: string;
  /** serverless.yml's definition the table was created from. */
  table: TableDefinition;
  readonly env: Readonly<LocalDynamoEnv>;
  /** Fault rules and request counters of the proxy. */
  faults: DynamoFaults;
  /** Closes the proxy, then dynalite (the table and its items are gone). Idempotent. */
  close(): Promise<void>;
}

export class LocalDynamoPortInUseError extends Error {
  override readonly name = 'LocalDynamoPortInUseError';
}

export class LocalTableNotActiveError extends Error {
  override readonly name = 'LocalTableNotActiveError';
}

const LOOPBACK = '127.0.0.1';
/** dynalite keeps a new table CREATING for 500 ms by default: no reason to wait locally. */
const DYNALITE_OPTIONS = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 };
const TABLE_ACTIVE_TIMEOUT_MS = 5_000;
const TABLE_POLL_MS = 10;

/** A client of the local server with an explicit endpoint, the local region and dummy credentials. */
export function localDynamoClient(endpoint: string, options: { maxAttempts?: number } = {}): DynamoDBClient {
  // One region for every local emulator: a process has one AWS_REGION. dynalite checks no signature.
  return new DynamoDBClient({ endpoint, region: LOCAL_SQS_REGION, credentials: LOCAL_CREDENTIALS, ...options });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

async function createTable(client: DynamoDBClient, table: TableDefinition): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: table.name,
      AttributeDefinitions: table.attributeDefinitions,
      KeySchema: table.keySchema,
      BillingMode: table.billingMode,
      ...(table.provisionedThroughput ? { ProvisionedThroughput: table.provisionedThroughput } : {}),
      ...(table.globalSecondaryIndexes ? { GlobalSecondaryIndexes: table.globalSecondaryIndexes } : {}),
    }),
  );
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table.name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new LocalTableNotActiveError(`dynalite: table ${table.name} is still ${Table?.TableStatus}`);
    await sleep(TABLE_POLL_MS);
  }
}

async function startProxy(target: string, options: LocalDynamoOptions): Promise<FaultProxy> {
  const port = options.port ?? 0;
  try {
    return await startFaultProxy({ target, host: LOOPBACK, port, ...(options.faultSeed === undefined ? {} : { seed: options.faultSeed }) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LocalDynamoPortInUseError(`DynamoDB emulator: port ${port} on ${LOOPBACK} is already in use`, { cause: error });
    }
    throw error;
  }
}

export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  const config = options.config ?? readServerlessConfig();
  const table = config.table;
  const server = dynalite(DYNALITE_OPTIONS);
  const backend = `http://${LOOPBACK}:${await listen(server, 0)}`;
  let proxy: FaultProxy | undefined;
  // Straight to dynalite: creating the table is not a request a fault rule or counter is about.
  const admin = localDynamoClient(backend);
  try {
    proxy = await startProxy(backend, options);
    await createTable(admin, table);
  } catch (error) {
    admin.destroy();
    await proxy?.close();
    await closeServer(server);
    throw error;
  }
  admin.destroy();
  const { endpoint, faults, close: closeProxy } = proxy;
  let closed: Promise<void> | undefined;
  return {
    endpoint,
    tableName: table.name,
    table,
    env: {
      BINDINGS_TABLE: table.name,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_REGION: LOCAL_SQS_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    },
    faults,
    close: () => (closed ??= closeProxy().then(() => closeServer(server))),
  };
}
