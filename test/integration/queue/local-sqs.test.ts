import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSqsClient } from '../../../local/sqs/client.js';
import { LocalSqsPortInUseError, startLocalSqs } from '../../../local/sqs/fauxqs.js';
import type { LocalSqs } from '../../../local/sqs/fauxqs.js';
import { readServerlessConfig } from '../../../local/serverless-config.js';

describe('startLocalSqs', () => {
  let sqs: LocalSqs;
  beforeAll(async () => {
    sqs = await startLocalSqs({ queueAttributes: { VisibilityTimeout: '1' } });
  });
  afterAll(async () => sqs.close());

  it('listens on loopback and creates both queues as serverless.yml declares them', async () => {
    expect(sqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const config = readServerlessConfig();
    const client = localSqsClient(sqs.endpoint);
    const { Attributes: main = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, AttributeNames: ['All'] }));
    const { Attributes: dlq = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: sqs.dlqUrl, AttributeNames: ['All'] }));
    client.destroy();
    expect(sqs.queueUrl.endsWith(`/${config.bindingQueue.name}`)).toBe(true);
    expect(sqs.dlqUrl.endsWith(`/${config.deadLetterQueue.name}`)).toBe(true);
    expect(main).toMatchObject({ FifoQueue: 'true', DeduplicationScope: 'messageGroup', MessageRetentionPeriod: '1209600', VisibilityTimeout: '1' });
    expect(JSON.parse(main.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: sqs.dlqArn, maxReceiveCount: config.maxReceiveCount });
    expect(dlq.FifoQueue).toBe('true');
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives (fauxqs redrives, as SQS does)', async () => {
    const client = localSqsClient(sqs.endpoint);
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: '{}', MessageGroupId: 'g', MessageDeduplicationId: 'redrive' }));
    const receives: number[] = [];
    for (let i = 0; i < sqs.config.maxReceiveCount + 1; i++) {
      // VisibilityTimeout 0: the message is back at once, as if each receive had failed.
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, VisibilityTimeout: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
      );
      receives.push(...Messages.map((m) => Number(m.Attributes?.ApproximateReceiveCount)));
    }
    client.destroy();
    expect(receives).toEqual(Array.from({ length: sqs.config.maxReceiveCount }, (_, i) => i + 1));
    expect(await sqs.depth()).toEqual({ queued: 0, inFlight: 0, delayed: 0, deadLettered: 1 });
  });

  it('reports a port in use as a named error', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const { port } = blocker.address() as AddressInfo;
    await expect(startLocalSqs({ port })).rejects.toBeInstanceOf(LocalSqsPortInUseError);
    await new Promise((resolve) => blocker.close(resolve));
  });
});
