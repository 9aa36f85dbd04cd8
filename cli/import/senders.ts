/**
 * Where `import` sends its chunks: straight to TPNS, or recorded in the intent ledger and queued
 * for the worker (`--via-queue`). Both answer one result per item, in order, and throw only for a failure that
 * would hit every later chunk the same way (wrong credentials, queue unreachable), which stops
 * the run instead of failing a million lines one by one.
 */
import { randomUUID } from 'node:crypto';
import { MAX_KEYS_PER_MESSAGE } from '../../lib/queue/messages.js';
import { MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL } from '../../lib/tpns/constants.js';
import { TpnsAppError, TpnsAuthError, TpnsError } from '../../lib/tpns/errors.js';
import type { AccountRef, Binding, Platform, TpnsAccountApi } from '../../lib/tpns/types.js';
import { deploymentRuntime } from '../aws.js';

export type ItemResult = { ok: true } | { ok: false; code: string; reason: string; retryable: boolean };

export interface Sender {
  /** Items per chunk: one TPNS call directly; one SendMessageBatch (10 messages of 20 keys) via the queue. */
  chunkSize: number;
  send(platform: Platform, bindings: Binding[]): Promise<ItemResult[]>;
}

/** TPNS's limit for op 2: at most 20 tokens per call. */
const DIRECT_CHUNK_SIZE = MAX_TOKENS_PER_TOKEN_ACCOUNTS_CALL;
/** SendMessageBatch takes at most 10 entries, each message at most one TPNS call's work. */
const SQS_MAX_BATCH_ENTRIES = 10;
const QUEUE_CHUNK_SIZE = MAX_KEYS_PER_MESSAGE * SQS_MAX_BATCH_ENTRIES;

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

/**
 * `--via-queue`, pointed at a deployment: each chunk is recorded in the intent ledger
 * (BINDINGS_TABLE), which it so seeds, each sign-in versioned above its account's erasure
 * tombstone as the admin bulk does, and its tokens are queued as push keys for the worker. Nothing
 * is sent to TPNS from here, whatever the chunk's size: TPNS credentials are not needed.
 * A ledger or queue that does not answer stops the run (LedgerUnavailableError / QueueUnavailableError).
 */
export async function queueSender(env: NodeJS.ProcessEnv): Promise<Sender> {
  const runtime = await deploymentRuntime(env, '--via-queue', ['BINDING_QUEUE_URL', 'BINDINGS_TABLE', 'ERASURE_KEY', 'AWS_REGION']);
  // Loaded only here: a direct import never pays for the AWS SDK.
  const [{ queueRecorded }, { recordSignIns }] = await Promise.all([import('../../lib/commands/work.js'), import('../../lib/commands/sign-in.js')]);
  const runId = randomUUID();
  let sequence = 0;
  return {
    chunkSize: QUEUE_CHUNK_SIZE,
    async send(platform, bindings) {
      sequence += 1;
      // Recorded as the admin bulk records (tombstone floors, index, a token's lines in file order), then queued.
      const items = bindings.map((binding) => ({ key: { platform, token: binding.token }, ref: refOf(binding) }));
      const { writes } = await recordSignIns(runtime, items, false);
      await queueRecorded(runtime, writes, { correlationId: `cli-import:${runId}:${sequence}` });
      return bindings.map(() => ({ ok: true }));
    },
  };
}

const refOf = ({ account, accountType }: Binding): AccountRef => (accountType === undefined ? { account } : { account, accountType });
