/**
 * The bare equivalents the functions are measured against: the same ledger write, TPNS call and
 * SQS send each function's request needs, made plainly with the AWS SDK's low-level clients and
 * node:http — no framework, no validation, no versions checked against tombstones, no account
 * index, no lease given back, nothing read twice. What the work costs at least; the warm and cold
 * ratios are the product's time over this one's, both against the same local services.
 *
 * Used in the bench process (warm: the class) and, for the cold starts, bundled and started in a
 * fresh process exactly like the functions (`handler` below, which serves the same events).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BatchGetItemCommand, BatchWriteItemCommand, DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { signRequest } from '../lib/tpns/sign.js';

type Platform = 'android' | 'ios';
interface App {
  accessId: string;
  secretKey: string;
}

/** Where the bare calls go: the variables the deployed functions read. */
export interface BareTarget {
  tableName: string;
  queueUrl: string;
  tpnsEndpoint: string;
  apps: Record<Platform, App>;
  erasureKey: string;
  verifyDelaySeconds: number;
}

export function bareTargetFromEnv(env: NodeJS.ProcessEnv): BareTarget {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`the bare equivalent needs ${name}`);
    return value;
  };
  return {
    tableName: need('BINDINGS_TABLE'),
    queueUrl: need('BINDING_QUEUE_URL'),
    tpnsEndpoint: need('TPNS_ENDPOINT'),
    apps: {
      android: { accessId: need('TPNS_ANDROID_ACCESS_ID'), secretKey: need('TPNS_ANDROID_SECRET_KEY') },
      ios: { accessId: need('TPNS_IOS_ACCESS_ID'), secretKey: need('TPNS_IOS_SECRET_KEY') },
    },
    erasureKey: need('ERASURE_KEY'),
    verifyDelaySeconds: Number(env.VERIFY_DELAY_SECONDS ?? 15),
  };
}

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

export class Bare {
  readonly #target: BareTarget;
  readonly #dynamo = new DynamoDBClient({});
  readonly #sqs = new SQSClient({});
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #https: boolean;

  constructor(target: BareTarget) {
    this.#target = target;
    this.#https = target.tpnsEndpoint.startsWith('https:');
    this.#agent = this.#https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  // ---- the plain calls ----------------------------------------------------------------------

  #digest(account: string, accountType = 0): string {
    return createHmac('sha256', this.#target.erasureKey).update(`${accountType}\u0000${account}`).digest('base64url');
  }

  #tokenKey(platform: Platform, token: string): Record<string, AttributeValue> {
    return { pk: S(`T#${platform}#${token}`), sk: S('#') };
  }

  /** The sign-in's ledger write: the entry, its version and the push lease, in one conditional UpdateItem. */
  recordSignIn(platform: Platform, token: string, account: string): Promise<unknown> {
    const v = Date.now() * 1000;
    const now = new Date().toISOString();
    return this.#dynamo.send(
      new UpdateItemCommand({
        TableName: this.#target.tableName,
        Key: this.#tokenKey(platform, token),
        UpdateExpression: 'SET b0 = :entry, v = :v, st = :pending, stV = :v, stAt = :now, att = :zero, lu = :lu, lb = :lb',
        ConditionExpression: '(attribute_not_exists(v) OR v < :v) AND (attribute_not_exists(lu) OR lu < :nowMs)',
        ExpressionAttributeValues: {
          ':entry': { M: { a: S(account), v: N(v), s: S(now) } },
          ':v': N(v),
          ':pending': S('pending'),
          ':now': S(now),
          ':zero': N(0),
          ':lu': N(Date.now() + 15_000),
          ':lb': S(randomUUID()),
          ':nowMs': N(Date.now()),
        },
      }),
    );
  }

  /** The sign-out's ledger write. */
  recordSignOut(platform: Platform, token: string): Promise<unknown> {
    const v = Date.now() * 1000;
    return this.#dynamo.send(
      new UpdateItemCommand({
        TableName: this.#target.tableName,
        Key: this.#tokenKey(platform, token),
        UpdateExpression: 'SET clearV = :v, v = :v, st = :pending, stV = :v, stAt = :now, att = :zero',
        ConditionExpression: 'attribute_not_exists(v) OR v < :v',
        ExpressionAttributeValues: { ':v': N(v), ':pending': S('pending'), ':now': S(new Date().toISOString()), ':zero': N(0) },
      }),
    );
  }

  /** The deletion's tombstone. */
  recordDeletion(account: string): Promise<unknown> {
    const v = Date.now() * 1000;
    return this.#dynamo.send(
      new UpdateItemCommand({
        TableName: this.#target.tableName,
        Key: { pk: S(`E#${this.#digest(account)}`), sk: S('#') },
        UpdateExpression: 'SET v = :v, #at = :at, apps = :apps, expiresAt = :exp',
        ConditionExpression: 'attribute_not_exists(v) OR v < :v',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: {
          ':v': N(v),
          ':at': S(new Date().toISOString()),
          ':apps': { M: { android: { M: {} }, ios: { M: {} } } },
          ':exp': N(Math.floor(Date.now() / 1000) + 30 * 86_400),
        },
      }),
    );
  }

  /** The worker's lease claim, which also reads the token's intent (ReturnValues ALL_NEW). */
  async claim(platform: Platform, token: string): Promise<string | undefined> {
    const answer = await this.#dynamo.send(
      new UpdateItemCommand({
        TableName: this.#target.tableName,
        Key: this.#tokenKey(platform, token),
        UpdateExpression: 'SET lu = :lu, lb = :lb',
        ConditionExpression: 'attribute_exists(v)',
        ExpressionAttributeValues: { ':lu': N(Date.now() + 15_000), ':lb': S(randomUUID()) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return answer.Attributes?.b0?.M?.a?.S;
  }

  /** The tokens an account was bound on (its index items), then their records. */
  async devices(account: string): Promise<number> {
    const { Items = [] } = await this.#dynamo.send(
      new QueryCommand({
        TableName: this.#target.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': S(`I#${this.#digest(account)}`) },
      }),
    );
    if (Items.length === 0) return 0;
    const { Responses = {} } = await this.#dynamo.send(
      new BatchGetItemCommand({ RequestItems: { [this.#target.tableName]: { Keys: Items.slice(0, 100).map((item) => ({ pk: item.sk as AttributeValue, sk: S('#') })) } } }),
    );
    return Responses[this.#target.tableName]?.length ?? 0;
  }

  /** One signed batchoperate call over a keep-alive connection; throws unless TPNS answered ret_code 0. */
  tpns(platform: Platform, body: Record<string, unknown>): Promise<void> {
    const app = this.#target.apps[platform];
    const text = JSON.stringify({ ...body, platform });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const url = new URL('/v3/device/account/batchoperate', this.#target.tpnsEndpoint);
    const send = this.#https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(text),
            AccessId: app.accessId,
            TimeStamp: timestamp,
            Sign: signRequest(app.secretKey, timestamp, app.accessId, text),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ret_code?: number };
            if (response.statusCode === 200 && reply.ret_code === 0) resolve();
            else reject(new Error(`bare batchoperate answered HTTP ${response.statusCode} ret_code ${reply.ret_code}`));
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(text);
    });
  }

  /** The same call with the global `fetch`: the plainest way to call TPNS. */
  async plainFetch(platform: Platform, body: Record<string, unknown>): Promise<void> {
    const app = this.#target.apps[platform];
    const text = JSON.stringify({ ...body, platform });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const response = await fetch(new URL('/v3/device/account/batchoperate', this.#target.tpnsEndpoint), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', AccessId: app.accessId, TimeStamp: timestamp, Sign: signRequest(app.secretKey, timestamp, app.accessId, text) },
      body: text,
    });
    const reply = (await response.json()) as { ret_code?: number };
    if (response.status !== 200 || reply.ret_code !== 0) throw new Error(`plain fetch answered HTTP ${response.status} ret_code ${reply.ret_code}`);
  }

  /** The read-back queued after a push: one plain SendMessage of a v2 verify message. */
  queueVerify(keys: readonly Record<string, unknown>[]): Promise<unknown> {
    const message = { v: 2, phase: 'verify', correlationId: randomUUID(), attempt: 0, keys };
    return this.#sqs.send(
      new SendMessageCommand({ QueueUrl: this.#target.queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: this.#target.verifyDelaySeconds }),
    );
  }

  // ---- what each function's request needs, plainly ------------------------------------------

  /** A sign-in: record, push op 2, queue its read-back (each needs the one before). */
  async signIn(platform: Platform, token: string, account: string): Promise<void> {
    await this.recordSignIn(platform, token, account);
    await this.tpns(platform, { operator_type: 2, token_accounts: [{ token, account_list: [{ account }] }] });
    await this.queueVerify([{ kind: 'token', platform, token }]);
  }

  /**
   * The same calls the login function makes for a sign-in, plainly and in the same order: the
   * tombstone read and the account index at once, the versioned write with the lease, the record
   * and tombstones read again right before the send, the push, the lease given back, the
   * read-back queued. Tells the cost of the calls from the cost of the code.
   */
  async signInSameCalls(platform: Platform, token: string, account: string): Promise<void> {
    const table = this.#target.tableName;
    const tombstone = { pk: S(`E#${this.#digest(account)}`), sk: S('#') };
    await Promise.all([
      this.#dynamo.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: [tombstone], ConsistentRead: true } } })),
      this.#dynamo.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: [{ PutRequest: { Item: { pk: S(`I#${this.#digest(account)}`), sk: S(`T#${platform}#${token}`) } } }] } }),
      ),
    ]);
    await this.recordSignIn(platform, token, account);
    await this.#dynamo.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: [this.#tokenKey(platform, token), tombstone], ConsistentRead: true } } }));
    await this.tpns(platform, { operator_type: 2, token_accounts: [{ token, account_list: [{ account }] }] });
    await this.#dynamo.send(
      new UpdateItemCommand({
        TableName: table,
        Key: this.#tokenKey(platform, token),
        UpdateExpression: 'SET st = :st, stAt = :now REMOVE lu, lb',
        ExpressionAttributeValues: { ':st': S('applied'), ':now': S(new Date().toISOString()) },
      }),
    );
    await this.queueVerify([{ kind: 'token', platform, token }]);
  }

  async signOut(platform: Platform, token: string): Promise<void> {
    await this.recordSignOut(platform, token);
    await this.tpns(platform, { operator_type: 4, token_list: [token] });
    await this.queueVerify([{ kind: 'token', platform, token }]);
  }

  /** An account deletion: the tombstone, op 5 on both apps at once, the read-back queued. */
  async deleteAccount(account: string): Promise<void> {
    await this.recordDeletion(account);
    await Promise.all((['android', 'ios'] as const).map((platform) => this.tpns(platform, { operator_type: 5, account_list: [{ account }] })));
    await this.queueVerify([{ kind: 'erasure', account }]);
  }

  /** The worker's push of one queued key: claim (reading the intent), op 2, the read-back queued. */
  async push(platform: Platform, token: string): Promise<void> {
    const account = await this.claim(platform, token);
    if (account) await this.tpns(platform, { operator_type: 2, token_accounts: [{ token, account_list: [{ account }] }] });
    await this.queueVerify([{ kind: 'token', platform, token }]);
  }

  destroy(): void {
    this.#dynamo.destroy();
    this.#sqs.destroy();
    this.#agent.destroy();
  }
}

// ---- the bare equivalent as a handler, for the cold starts ----------------------------------

/** The events it serves: an HTTP API v2 event of any of the product's routes, or an SQS event of v2 key messages. */
interface BareEvent {
  routeKey?: string;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  body?: string;
  requestContext?: { authorizer?: { jwt?: { claims?: Record<string, string> } } };
  Records?: { body: string }[];
}

let bare: Bare | undefined;

export const handler = async (event: BareEvent): Promise<{ statusCode: number; body: string } | { batchItemFailures: never[] }> => {
  bare ??= new Bare(bareTargetFromEnv(process.env));
  if (event.Records) {
    for (const record of event.Records) {
      const message = JSON.parse(record.body) as { keys: { kind: string; platform: Platform; token: string }[] };
      await Promise.all(message.keys.filter((key) => key.kind === 'token').map((key) => bare!.push(key.platform, key.token)));
    }
    return { batchItemFailures: [] };
  }
  const account = event.requestContext?.authorizer?.jwt?.claims?.sub ?? '';
  const token = event.pathParameters?.token ?? '';
  switch (event.routeKey) {
    case 'PUT /v1/me/devices/{token}':
      await bare.signIn((JSON.parse(event.body ?? '{}') as { platform: Platform }).platform, token, account);
      break;
    case 'DELETE /v1/me/devices/{token}':
      await bare.signOut((event.queryStringParameters?.platform ?? 'android') as Platform, token);
      break;
    case 'DELETE /v1/me':
      await bare.deleteAccount(account);
      break;
    case 'GET /v1/me/devices':
      return { statusCode: 200, body: JSON.stringify({ devices: await bare.devices(account) }) };
    default:
      return { statusCode: 404, body: '{}' };
  }
  return { statusCode: 200, body: '{}' };
};
