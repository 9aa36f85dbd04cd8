/**
 * Warm overhead: the login handler's `PUT /v1/me/devices/{token}` (invoked in this process with
 * an HTTP API v2 event; it validates, signs and makes one op 2 call) against a plain signed
 * `fetch` of the same op 2 call. The two alternate request by request so drift hits both alike.
 * Each sign-in also queues its confirming copy (SQS SendMessageBatch to fauxqs, concurrently with
 * the TPNS call), so the handler's time is max(TPNS, SQS) plus its own CPU. A third reference does
 * that same work bare: the plain `fetch` and a plain SQS SendMessage (to a queue no worker reads),
 * concurrently: the floor of a sign-in that queues its confirmation.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { localSqsClient } from '../local/sqs/client.js';
import { rawBind } from './raw-tpns.js';
import type { BenchStack } from './stack.js';
import { percentile } from './stats.js';

export interface WarmRun {
  handler: { p50: number; p99: number };
  raw: { p50: number; p99: number };
  /** The plain fetch and a plain SQS SendMessage, concurrently. */
  rawWithSqs: { p50: number; p99: number };
  /** Sign-ins made, warm-up included: each queued one confirming copy (Android). */
  signIns: number;
}

/** Requests before measuring: JIT, connection pool and the runtime cache warm up. */
const WARM_UP = 50;

async function timed(action: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

const percentiles = (samples: readonly number[]) => ({ p50: percentile(samples, 50), p99: percentile(samples, 99) });

export async function warmOverhead(stack: BenchStack, requests: number): Promise<WarmRun> {
  const handlerMs: number[] = [];
  const rawMs: number[] = [];
  const rawWithSqsMs: number[] = [];
  const sqs = localSqsClient(stack.sqs.endpoint);
  const sendToSqs = (binding: { token: string; account: string }) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.sqs.referenceQueueUrl,
        MessageBody: JSON.stringify({ kind: 'bind', platform: 'android', items: [binding] }),
        MessageGroupId: binding.token,
        MessageDeduplicationId: randomUUID(),
      }),
    );
  for (let index = 0; index < WARM_UP + requests; index++) {
    // What API Gateway and Lambda do before the handler runs (building the event) is not timed.
    const signIn = stack.invocation('login', 'PUT /v1/me/devices/{token}', {
      account: `warm-${randomUUID().slice(0, 8)}`,
      pathParameters: { token: randomUUID() },
      body: { platform: 'android' },
    });
    let answer: { statusCode: number; body: string } | undefined;
    const handler = await timed(async () => {
      answer = await signIn();
    });
    if (answer?.statusCode !== 200) throw new Error(`sign-in answered ${answer?.statusCode}: ${answer?.body}`);
    const binding = { token: randomUUID(), account: `warm-${randomUUID().slice(0, 8)}` };
    const raw = await timed(() => rawBind(stack.raw, 'android', [binding]));
    const queued = { token: randomUUID(), account: binding.account };
    const rawWithSqs = await timed(async () => {
      await Promise.all([rawBind(stack.raw, 'android', [queued]), sendToSqs(queued)]);
    });
    if (index < WARM_UP) continue;
    handlerMs.push(handler);
    rawMs.push(raw);
    rawWithSqsMs.push(rawWithSqs);
  }
  sqs.destroy();
  return { handler: percentiles(handlerMs), raw: percentiles(rawMs), rawWithSqs: percentiles(rawWithSqsMs), signIns: WARM_UP + requests };
}
