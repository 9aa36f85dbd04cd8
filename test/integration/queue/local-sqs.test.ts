import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
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

  it('listens on loopback and creates both queues as serverless.yml declares them (standard queues)', async () => {
    expect(sqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const config = readServerlessConfig();
    const client = localSqsClient(sqs.endpoint);
    const { Attributes: main = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, AttributeNames: ['All'] }));
    const { Attributes: dlq = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: sqs.dlqUrl, AttributeNames: ['All'] }));
    client.destroy();
    expect(sqs.queueUrl.endsWith(`/${config.bindingQueue.name}`)).toBe(true);
    expect(sqs.dlqUrl.endsWith(`/${config.deadLetterQueue.name}`)).toBe(true);
    expect(config.bindingQueue.name).not.toMatch(/\.fifo$/);
    expect(main).toMatchObject({ MessageRetentionPeriod: '1209600', VisibilityTimeout: '1' });
    expect(main.FifoQueue).toBeUndefined();
    expect(main.DeduplicationScope).toBeUndefined();
    expect(JSON.parse(main.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: sqs.dlqArn, maxReceiveCount: config.maxReceiveCount });
    expect(dlq.FifoQueue).toBeUndefined();
    expect(dlq.MessageRetentionPeriod).toBe('1209600');
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives (fauxqs redrives, as SQS does)', async () => {
    const client = localSqsClient(sqs.endpoint);
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: '{}' }));
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

  it('delays a message by its own DelaySeconds (a standard queue allows it per message)', async () => {
    const client = localSqsClient(sqs.endpoint);
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: 'later', DelaySeconds: 1 }));
    const before = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, WaitTimeSeconds: 0 }));
    expect(before.Messages ?? []).toEqual([]);
    expect(await sqs.depth()).toMatchObject({ queued: 0, delayed: 1 });
    const after = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, WaitTimeSeconds: 2 }));
    expect(after.Messages?.map((m) => m.Body)).toEqual(['later']);
    await client.send(new DeleteMessageCommand({ QueueUrl: sqs.queueUrl, ReceiptHandle: after.Messages?.[0]?.ReceiptHandle }));
    client.destroy();
  });

  it('reports a port in use as a named error', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const { port } = blocker.address() as AddressInfo;
    await expect(startLocalSqs({ port })).rejects.toBeInstanceOf(LocalSqsPortInUseError);
    await new Promise((resolve) => blocker.close(resolve));
  });
});
