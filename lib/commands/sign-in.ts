/** Sign-in on a device: op 2, the token now belongs to this account only. */
import { logger } from '../observability/logger.js';
import { QueueUnavailableError } from '../queue/errors.js';
import { TpnsPlatformNotConfiguredError, TpnsValidationError } from '../tpns/errors.js';
import type { Binding } from '../tpns/types.js';
import { answerOf } from './answer.js';
import type { Answer, CommandMeta } from './answer.js';
import type { Runtime } from './runtime.js';
import type { BulkBindInput, DeviceInput } from './schemas.js';
import { applyOrQueue, applyOrQueueBySize, assertConfigured, queueWork } from './work.js';
import type { WorkInput } from './work.js';

const binding = ({ token, account, accountType }: DeviceInput): Binding =>
  accountType === undefined ? { token, account } : { token, account, accountType };

const bindWork = (input: DeviceInput): WorkInput => ({ kind: 'bind', platform: input.platform, items: [binding(input)] });

/** Applied directly (~2 s budget); still failing retryably -> queued in the token's FIFO group (202). */
export async function signIn(runtime: Runtime, input: DeviceInput, meta: CommandMeta): Promise<Answer> {
  assertConfigured(runtime.tpns, [input.platform]);
  return answerOf(await applyOrQueue(runtime, [bindWork(input)], meta));
}

/**
 * For callers that must not fail (the Cognito trigger fails the sign-in if it throws): whatever
 * goes wrong on the direct path, the binding is handed to the queue. Only input no retry can fix
 * (bad token, platform not configured) and an unreachable queue (already tried) still throw.
 */
export async function signInOrQueue(runtime: Runtime, input: DeviceInput, meta: CommandMeta): Promise<Answer> {
  try {
    return await signIn(runtime, input, meta);
  } catch (error) {
    const hopeless = [TpnsPlatformNotConfiguredError, TpnsValidationError, QueueUnavailableError].some((type) => error instanceof type);
    if (hopeless) throw error;
    logger.warn('Sign-in could not be applied directly; queueing it', { error });
    return answerOf({ applied: 0, failed: [], ...(await queueWork(runtime.queue, [bindWork(input)], meta)) });
  }
}

/** Up to one TPNS call per platform directly, more planned into chunks and queued (202). */
export async function bulkBind(runtime: Runtime, input: BulkBindInput, meta: CommandMeta): Promise<Answer> {
  const platforms = new Set(input.items.map((item) => item.platform));
  assertConfigured(runtime.tpns, platforms);
  const works = [...platforms].map(
    (platform): WorkInput => ({ kind: 'bind', platform, items: input.items.filter((item) => item.platform === platform).map(binding) }),
  );
  return answerOf(await applyOrQueueBySize(runtime, works, meta));
}
