/**
 * Versions written by a container whose clock runs ahead (docs/reliability.md, "Versions"). In
 * one process versions only grow, so the other container's write is made by hand: the stored
 * version is raised a minute into the future. An operation answered after it must still be the
 * later one, because every writer versions itself above what it read, not by its clock.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deleteAccount } from '../../../lib/commands/delete-account.js';
import { listDevices } from '../../../lib/commands/list-devices.js';
import { signIn } from '../../../lib/commands/sign-in.js';
import { signOut } from '../../../lib/commands/sign-out.js';
import { loadConfig } from '../../../lib/config/config.js';
import { createRuntime } from '../../../lib/config/runtime.js';
import type { Runtime } from '../../../lib/config/runtime.js';
import { localDynamoClient } from '../../../local/dynamodb/local-dynamo.js';
import { startQuietStack } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';
import { useStack } from '../../support/use-stack.js';

/** A minute, in version units (microseconds). */
const MINUTE_AHEAD = 60_000_000;

let stack: Stack;
let runtime: Runtime;
let client: DynamoDBClient;
useStack((started) => (stack = started), {}, startQuietStack);
beforeAll(async () => {
  runtime = createRuntime(await loadConfig(process.env));
  client = localDynamoClient(stack.dynamo.endpoint);
});
afterAll(() => client.destroy());
beforeEach(() => stack.reset());

/** What a container a minute ahead would have written: the item's version, a minute later. */
async function rewriteAhead(pk: string, sk: string, options: { entry?: string } = {}): Promise<number> {
  const { Attributes } = await client.send(
    new UpdateItemCommand({
      TableName: stack.dynamo.tableName,
      Key: { pk: { S: pk }, sk: { S: sk } },
      // `entry`: a token's binding of that account type (`b0`) carries the version it was written at, too.
      UpdateExpression: options.entry ? `SET v = v + :ahead, ${options.entry}.v = ${options.entry}.v + :ahead` : 'SET v = v + :ahead',
      ConditionExpression: 'attribute_exists(v)',
      ExpressionAttributeValues: { ':ahead': { N: String(MINUTE_AHEAD) } },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return Number(Attributes?.v?.N);
}

const meta = (correlationId: string) => ({ correlationId });

describe('a write by a container whose clock runs a minute ahead', () => {
  it('a deletion versioned ahead, then a sign-in of that account answered after it: the sign-in is versioned above the tombstone and binds', async () => {
    const account = 'skew-returning';
    expect(await deleteAccount(runtime, { account }, meta('deletion'))).toMatchObject({ status: 200 });
    const tombstone = await runtime.ledger.getTombstone({ account, accountType: 0 });
    const ahead = await rewriteAhead(`E#${runtime.ledger.digestOf({ account, accountType: 0 })}`, '#');
    expect(ahead).toBe(tombstone!.v + MINUTE_AHEAD);

    expect(await signIn(runtime, { account, token: 'skew-token-1', platform: 'android' }, meta('again'))).toMatchObject({ status: 200, body: { applied: 1 } });
    const record = await runtime.ledger.getToken({ platform: 'android', token: 'skew-token-1' });
    expect(record?.v).toBeGreaterThan(ahead);
    await stack.tpns.idle();
    expect(stack.tpns.accountsOf('android', 'skew-token-1')).toEqual([{ account, accountType: 0 }]);
    expect((await listDevices(runtime, { account })).devices).toEqual([expect.objectContaining({ platform: 'android', token: 'skew-token-1' })]);
  });

  it('a sign-in versioned ahead, then a deletion of that account answered after it: the tombstone is versioned above the binding, and the account is erased', async () => {
    const account = 'skew-leaving';
    const key = { platform: 'android' as const, token: 'skew-token-3' };
    expect(await signIn(runtime, { account, ...key }, meta('sign-in'))).toMatchObject({ status: 200 });
    const ahead = await rewriteAhead(`T#${key.platform}#${key.token}`, '#', { entry: 'b0' });
    expect((await runtime.ledger.getToken(key))?.entries).toEqual([expect.objectContaining({ account, v: ahead })]);

    expect(await deleteAccount(runtime, { account }, meta('deletion'))).toMatchObject({ status: 200 });
    const tombstone = await runtime.ledger.getTombstone({ account, accountType: 0 });
    expect(tombstone?.v).toBeGreaterThan(ahead);
    await stack.tpns.idle();
    expect(stack.tpns.accountsOf(key.platform, key.token)).toEqual([]);
    // The ledger does not count the binding as the account's any more: it is older than the deletion.
    expect((await listDevices(runtime, { account })).devices).toEqual([]);
  });

  it('a sign-in versioned ahead, then a sign-out of the token answered after it: the sign-out retries above it, and the token ends with no account', async () => {
    const key = { platform: 'android' as const, token: 'skew-token-2' };
    expect(await signIn(runtime, { account: 'skew-user', ...key }, meta('sign-in'))).toMatchObject({ status: 200 });
    const ahead = await rewriteAhead(`T#${key.platform}#${key.token}`, '#');

    expect(await signOut(runtime, { account: 'skew-user', ...key }, meta('sign-out'))).toMatchObject({ status: 200, body: { applied: 1 } });
    const record = await runtime.ledger.getToken(key);
    expect(record?.v).toBeGreaterThan(ahead);
    // The sign-out is the token's latest operation: it voids every entry before it.
    expect(record?.clearV).toBe(record?.v);
    await stack.tpns.idle();
    expect(stack.tpns.accountsOf(key.platform, key.token)).toEqual([]);
  });
});
