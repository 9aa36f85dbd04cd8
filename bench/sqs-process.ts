/** The parent's handle on the fauxqs process (bench/child/sqs-host.ts): its endpoint and queues. */
import { fileURLToPath } from 'node:url';
import { startServiceProcess } from './service-process.js';

const HOST = fileURLToPath(new URL('./child/sqs-host.ts', import.meta.url));

export interface SqsProcess {
  /** Give it to SDK clients as `endpoint` (or AWS_ENDPOINT_URL_SQS). */
  endpoint: string;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
  /** A queue with the binding queue's attributes that no worker reads: for reference sends. */
  referenceQueueUrl: string;
  /** CPU time the fauxqs process used so far, ms. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

/** `queueAttributes` override serverless.yml's for the binding queue (e.g. a short visibility timeout). */
export async function startSqsProcess(queueAttributes: Record<string, string>): Promise<SqsProcess> {
  const service = await startServiceProcess<Omit<SqsProcess, 'cpuMs' | 'close'>>(HOST, 'fauxqs', [JSON.stringify(queueAttributes)]);
  return { ...service.ready, cpuMs: service.cpuMs, close: service.close };
}
