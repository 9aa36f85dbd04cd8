/**
 * Everything a handler needs, built once per cold start and reused by every invocation of the
 * same Lambda container: the TPNS client, the intent ledger, the key queue and the settings.
 */
import { DirectBreaker } from '../commands/direct-breaker.js';
import type { Convergence } from '../convergence/push.js';
import { DynamoLedger } from '../ledger/dynamo-ledger.js';
import { logger } from '../observability/logger.js';
import { recordTpnsEvent } from '../observability/metrics.js';
import { SqsDeadLetterQueue } from '../queue/dead-letter.js';
import type { DeadLetterQueue } from '../queue/dead-letter.js';
import { QueueUnavailableError } from '../queue/messages.js';
import type { KeyQueue } from '../queue/messages.js';
import { SqsKeyQueue } from '../queue/sqs-key-queue.js';
import { TpnsClient } from '../tpns/client.js';
import { ConfigurationError, LOCAL_ERASURE_KEY, loadConfig } from './config.js';
import type { Config, Settings } from './config.js';

export interface Runtime extends Convergence {
  settings: Settings & Convergence['settings'];
}

/** Without BINDING_QUEUE_URL nothing can be buffered: answer 503 rather than drop the work. */
const missingQueue: KeyQueue = {
  send: (messages) => (messages.length === 0 ? Promise.resolve() : Promise.reject(new QueueUnavailableError('BINDING_QUEUE_URL is not set'))),
};


export interface RuntimeOptions {
  /** The queue worker: its TPNS concurrency is WORKER_TPNS_CONCURRENCY, not TPNS_CONCURRENCY. */
  worker?: boolean;
}

export function createRuntime(config: Config, options: RuntimeOptions = {}): Runtime {
  const { settings } = config;
  if (!settings.tableName) throw new ConfigurationError('BINDINGS_TABLE is not set: the intent ledger has no table');
  const tpns = new TpnsClient({
    ...config.tpns,
    ...(options.worker ? { concurrency: settings.workerTpnsConcurrency } : {}),
    onEvent: recordTpnsEvent,
  });
  if (!config.erasureKey) logger.warn('ERASURE_KEY / ERASURE_KEY_PARAM not set: tombstones are keyed with the local development key');
  const ledger = new DynamoLedger({
    tableName: settings.tableName,
    erasureKey: config.erasureKey ?? LOCAL_ERASURE_KEY,
    retentionDays: settings.erasureRetentionDays,
  });
  // Region and endpoint are the SDK's own business (AWS_REGION, AWS_ENDPOINT_URL_SQS).
  const queue = settings.queueUrl ? new SqsKeyQueue({ queueUrl: settings.queueUrl }) : missingQueue;
  const deadLetters: DeadLetterQueue | undefined = settings.dlqUrl ? new SqsDeadLetterQueue({ queueUrl: settings.dlqUrl }) : undefined;
  return { tpns, ledger, queue, ...(deadLetters ? { deadLetters } : {}), settings, ...(settings.directCoolDownMs > 0 ? { directBreaker: new DirectBreaker(settings.directCoolDownMs) } : {}) };
}

/** Keyed by the options: the local stack runs every function in one process. */
const cached = new Map<string, Promise<Runtime>>();

/**
 * The runtime of this container: the configuration loaded once (cold start) and reused. A failed
 * build (e.g. SSM unreachable) is not cached, the next call retries.
 */
export function getRuntime(env: NodeJS.ProcessEnv = process.env, options: RuntimeOptions = {}): Promise<Runtime> {
  const key = options.worker ? 'worker' : 'function';
  let runtime = cached.get(key);
  if (!runtime) {
    runtime = loadConfig(env).then((config) => createRuntime(config, options)).catch((error: unknown) => {
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
