/**
 * Everything a handler needs, built once per cold start and reused by every invocation of the
 * same Lambda container: the TPNS client, the intent ledger, the key queue and the settings.
 */
import { DirectBreaker } from '../commands/direct-breaker.js';
import type { Convergence } from '../convergence/reconciler.js';
import { DynamoLedger } from '../ledger/dynamo-ledger.js';
import { logger } from '../observability/logger.js';
import { recordTpnsEvent } from '../observability/tpns-metrics.js';
import { SqsDeadLetterQueue } from '../queue/dead-letter.js';
import type { DeadLetterQueue } from '../queue/dead-letter.js';
import { QueueUnavailableError } from '../queue/errors.js';
import type { KeyQueue } from '../queue/messages.js';
import { SqsKeyQueue } from '../queue/sqs-key-queue.js';
import { TpnsClient, tpnsClientOptionsFromEnv } from '../tpns/index.js';
import { resolveSecretKeys } from './secrets.js';
import { ConfigurationError, settingsFromEnv } from './settings.js';
import type { Settings } from './settings.js';

export type { Settings } from './settings.js';

export interface Runtime extends Convergence {
  settings: Settings & Convergence['settings'];
}

/** Without BINDING_QUEUE_URL nothing can be buffered: answer 503 rather than drop the work. */
const missingQueue: KeyQueue = {
  send: (messages) => (messages.length === 0 ? Promise.resolve() : Promise.reject(new QueueUnavailableError('BINDING_QUEUE_URL is not set'))),
};

/** Local runs and tests only: deployed functions read ERASURE_KEY_PARAM (serverless.yml). */
export const LOCAL_ERASURE_KEY = 'tpns-account-sync-local-erasure-key';

/** What a function sets for itself rather than from TPNS_* (e.g. the worker's TPNS concurrency). */
export interface RuntimeOptions {
  /** TPNS calls in flight per operation; overrides TPNS_CONCURRENCY. */
  tpnsConcurrency?: number;
}

export async function createRuntime(env: NodeJS.ProcessEnv, options: RuntimeOptions = {}): Promise<Runtime> {
  const settings = settingsFromEnv(env);
  if (!settings.tableName) throw new ConfigurationError('BINDINGS_TABLE is not set: the intent ledger has no table');
  const resolved = await resolveSecretKeys(env);
  const tpns = new TpnsClient({
    ...tpnsClientOptionsFromEnv(resolved),
    ...(options.tpnsConcurrency === undefined ? {} : { concurrency: options.tpnsConcurrency }),
    onEvent: recordTpnsEvent,
  });
  if (!resolved.ERASURE_KEY) logger.warn('ERASURE_KEY / ERASURE_KEY_PARAM not set: tombstones are keyed with the local development key');
  const ledger = new DynamoLedger({
    tableName: settings.tableName,
    erasureKey: resolved.ERASURE_KEY || LOCAL_ERASURE_KEY,
    retentionDays: settings.erasureRetentionDays,
  });
  // Region and endpoint are the SDK's own business (AWS_REGION, AWS_ENDPOINT_URL_SQS).
  const queue = settings.queueUrl ? new SqsKeyQueue({ queueUrl: settings.queueUrl }) : missingQueue;
  const deadLetters: DeadLetterQueue | undefined = settings.dlqUrl ? new SqsDeadLetterQueue({ queueUrl: settings.dlqUrl }) : undefined;
  return { tpns, ledger, queue, ...(deadLetters ? { deadLetters } : {}), settings, ...(settings.directCoolDownMs > 0 ? { directBreaker: new DirectBreaker(settings.directCoolDownMs) } : {}) };
}

/** Keyed by the options: the local stack runs every function in one process. */
const cached = new Map<string, Promise<Runtime>>();

/** The cached runtime; a failed build (e.g. SSM unreachable) is not cached, the next call retries. */
export function getRuntime(env: NodeJS.ProcessEnv = process.env, options: RuntimeOptions = {}): Promise<Runtime> {
  const key = String(options.tpnsConcurrency ?? '');
  let runtime = cached.get(key);
  if (!runtime) {
    runtime = createRuntime(env, options).catch((error: unknown) => {
      cached.delete(key);
      throw error;
    });
    cached.set(key, runtime);
  }
  return runtime;
}

export function resetRuntimeForTests(): void {
  cached.clear();
}
