/** lib/config/sdk-client.ts: the SDK clients go without the SDK's logger middleware (it copies every input and output for a logger that drops them). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { SDK_CLIENT_OPTIONS, withoutSdkLogging } from '../../../lib/config/sdk-client.js';
import { lazySqsConnection } from '../../../lib/queue/sqs-connection.js';

const hasLoggerMiddleware = (client: { middlewareStack: { identify(): string[] } }) => client.middlewareStack.identify().some((entry) => entry.startsWith('loggerMiddleware'));

describe('withoutSdkLogging', () => {
  it('takes the logger middleware off a client and leaves the rest of its stack', () => {
    const plain = new DynamoDBClient({ ...SDK_CLIENT_OPTIONS });
    const quiet = withoutSdkLogging(new DynamoDBClient({ ...SDK_CLIENT_OPTIONS }));
    expect(hasLoggerMiddleware(plain)).toBe(true);
    expect(hasLoggerMiddleware(quiet)).toBe(false);
    expect(quiet.middlewareStack.identify()).toEqual(plain.middlewareStack.identify().filter((entry) => !entry.startsWith('loggerMiddleware')));
  });

  it('is how the queues build their SQS client', async () => {
    const { client } = await lazySqsConnection({ endpoint: 'http://localhost:1' })();
    expect(hasLoggerMiddleware(client)).toBe(false);
  });
});
