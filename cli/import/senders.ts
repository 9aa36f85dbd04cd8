/**
 * Where `import` sends its chunks: straight to TPNS, or into the binding queue for the worker
 * (`--via-queue`). Both answer one result per item, in order, and throw only for a failure that
 * would hit every later chunk the same way (wrong credentials, queue unreachable), which stops
 * the run instead of failing a million lines one by one.
 */
import { randomUUID } from 'node:crypto';
import { MAX_ITEMS_PER_MESSAGE } from '../../lib/queue/messages.js';
import { planWork } from '../../lib/queue/plan.js';
import { MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL, TpnsAppError, TpnsAuthError, TpnsError } from '../../lib/tpns/index.js';
import type { Binding, Platform, TpnsAccountApi } from '../../lib/tpns/types.js';
import { UsageError } from '../exit.js';

export type ItemResult = { ok: true } | { ok: false; code: string; reason: string; retryable: boolean };

export interface Sender {
  /** Items per chunk: one TPNS call directly; one SendMessageBatch (10 messages) via the queue. */
  chunkSize: number;
  send(platform: Platform, bindings: Binding[]): Promise<ItemResult[]>;
}

/** TPNS's limit for op 2: at most 20 tokens per call. */
const DIRECT_CHUNK_SIZE = MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL;
/** SendMessageBatch takes at most 10 entries, each message at most one TPNS call's work. */
const SQS_MAX_BATCH_ENTRIES = 10;
const QUEUE_CHUNK_SIZE = MAX_ITEMS_PER_MESSAGE * SQS_MAX_BATCH_ENTRIES;

export function directSender(client: TpnsAccountApi): Sender {
  return {
    chunkSize: DIRECT_CHUNK_SIZE,
    async send(platform, bindings) {
      try {
        const { outcomes } = await client.bind(platform, bindings);
        return outcomes.map((outcome) =>
          outcome.ok ? { ok: true } : { ok: false, code: outcome.code, reason: outcome.message, retryable: outcome.retryable },
        );
      } catch (error) {
        if (error instanceof TpnsAuthError || error instanceof TpnsAppError || !(error instanceof TpnsError)) throw error;
        // e.g. a platform without credentials: these lines fail, the others go on.
        return bindings.map(() => ({ ok: false, code: error.code, reason: error.message, retryable: error.retryable }));
      }
    },
  };
}

export async function queueSender(env: NodeJS.ProcessEnv): Promise<Sender> {
  const queueUrl = env.BINDING_QUEUE_URL;
  if (!queueUrl || !URL.canParse(queueUrl)) throw new UsageError('--via-queue needs BINDING_QUEUE_URL set to the binding queue URL');
  // Loaded only here: a direct import never pays for the AWS SDK.
  const { SqsWorkQueue } = await import('../../lib/queue/sqs-work-queue.js');
  const queue = new SqsWorkQueue({
    queueUrl,
    ...(env.AWS_ENDPOINT_URL_SQS ? { endpoint: env.AWS_ENDPOINT_URL_SQS } : {}),
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
  });
  const runId = randomUUID();
  let sequence = 0;
  return {
    chunkSize: QUEUE_CHUNK_SIZE,
    async send(platform, bindings) {
      // A correlation id per chunk: its messages get their own FIFO groups and deduplication ids.
      sequence += 1;
      await queue.enqueue(planWork({ kind: 'bind', platform, items: bindings }, { correlationId: `cli-import:${runId}:${sequence}` }));
      return bindings.map(() => ({ ok: true }));
    },
  };
}
