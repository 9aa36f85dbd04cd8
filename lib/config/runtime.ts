/**
 * Everything a handler needs, built once per cold start and reused by every invocation of the
 * same Lambda container: the TPNS client, the work queue and the settings.
 */
import { DirectBreaker } from '../commands/direct-breaker.js';
import { recordTpnsEvent } from '../observability/tpns-metrics.js';
import { SqsWorkQueue } from '../queue/sqs-work-queue.js';
import { QueueUnavailableError } from '../queue/errors.js';
import type { WorkQueue } from '../queue/messages.js';
import { TpnsClient, tpnsClientOptionsFromEnv } from '../tpns/index.js';
import type { TpnsAccountApi } from '../tpns/types.js';
import { resolveSecretKeys } from './secrets.js';
import { settingsFromEnv } from './settings.js';
import type { Settings } from './settings.js';

export type { Settings } from './settings.js';

export interface Runtime {
  tpns: TpnsAccountApi;
  queue: WorkQueue;
  settings: Settings;
  /** One per container, like the runtime itself: see lib/commands/direct-breaker.ts. */
  directBreaker: DirectBreaker;
}

/** Without BINDING_QUEUE_URL nothing can be buffered: answer 503 rather than drop the work. */
const missingQueue: WorkQueue = {
  enqueue: () => Promise.reject(new QueueUnavailableError('BINDING_QUEUE_URL is not set')),
};

/** What a function sets for itself rather than from TPNS_* (e.g. the worker's TPNS concurrency). */
export interface RuntimeOptions {
  /** TPNS calls in flight per operation; overrides TPNS_CONCURRENCY. */
  tpnsConcurrency?: number;
}

export async function createRuntime(env: NodeJS.ProcessEnv, options: RuntimeOptions = {}): Promise<Runtime> {
  const settings = settingsFromEnv(env);
  const tpns = new TpnsClient({
    ...tpnsClientOptionsFromEnv(await resolveSecretKeys(env)),
    ...(options.tpnsConcurrency === undefined ? {} : { concurrency: options.tpnsConcurrency }),
    onEvent: recordTpnsEvent,
  });
  const queue = settings.queueUrl
    ? new SqsWorkQueue({
        queueUrl: settings.queueUrl,
        ...(env.AWS_ENDPOINT_URL_SQS ? { endpoint: env.AWS_ENDPOINT_URL_SQS } : {}),
        ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
      })
    : missingQueue;
  return { tpns, queue, settings, directBreaker: new DirectBreaker() };
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
