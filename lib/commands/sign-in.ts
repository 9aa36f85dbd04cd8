/** Sign-in on a device: op 2, the token now belongs to this account only. */
import type { Binding } from '../tpns/types.js';
import { answerOf } from './answer.js';
import type { Answer, CommandMeta } from './answer.js';
import type { Runtime } from './runtime.js';
import type { BulkBindInput, DeviceInput } from './schemas.js';
import { applyAndConfirm, applyOrQueueBySize, assertConfigured } from './work.js';
import type { WorkInput } from './work.js';

const binding = ({ token, account, accountType }: DeviceInput): Binding =>
  accountType === undefined ? { token, account } : { token, account, accountType };

const bindWork = (input: DeviceInput): WorkInput => ({ kind: 'bind', platform: input.platform, items: [binding(input)] });

/**
 * Applied directly (~2 s budget) and, at the same time, queued in the token's FIFO group: as a
 * confirmation when TPNS took it (200), as the only copy when it did not (202). The worker so
 * replays the token's history in acceptance order, and an older sign-in still waiting in the
 * queue (another user's, TPNS was failing) cannot take the device back after this one.
 */
export async function signIn(runtime: Runtime, input: DeviceInput, meta: CommandMeta): Promise<Answer> {
  assertConfigured(runtime.tpns, [input.platform]);
  return answerOf(await applyAndConfirm(runtime, [bindWork(input)], meta));
}

/**
 * For callers that must not fail (the Cognito trigger fails the sign-in if it throws): whatever
 * goes wrong on the direct path, the queued copy carries the binding. Only a platform without
 * credentials and an unreachable queue still throw.
 */
export async function signInOrQueue(runtime: Runtime, input: DeviceInput, meta: CommandMeta): Promise<Answer> {
  assertConfigured(runtime.tpns, [input.platform]);
  return answerOf(await applyAndConfirm(runtime, [bindWork(input)], meta, 'rely-on-queue'));
}

/**
 * Up to one TPNS call per platform directly, each binding also queued in its token's group (so
 * the bulk is ordered against the users' own sign-ins and sign-outs of those tokens); more is
 * planned into chunks of 20 and queued (202), in chunk groups that are not ordered against them.
 */
export async function bulkBind(runtime: Runtime, input: BulkBindInput, meta: CommandMeta): Promise<Answer> {
  const platforms = new Set(input.items.map((item) => item.platform));
  assertConfigured(runtime.tpns, platforms);
  const works = [...platforms].map(
    (platform): WorkInput => ({ kind: 'bind', platform, items: input.items.filter((item) => item.platform === platform).map(binding) }),
  );
  return answerOf(await applyOrQueueBySize(runtime, works, meta));
}
