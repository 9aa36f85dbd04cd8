/** Sign-out on a device: op 4 removes every account from the token. */
import { planWork } from '../queue/plan.js';
import { answerOf } from './answer.js';
import type { Answer, CommandMeta } from './answer.js';
import type { Runtime } from './runtime.js';
import { accountRef } from './schemas.js';
import type { BulkUnbindTokensInput, DeviceInput } from './schemas.js';
import { applyDirect, applyOrQueueBySize, assertConfigured } from './work.js';

/**
 * Op 4 directly, plus a confirming op 3 (remove this account from the token) queued in the
 * token's FIFO group: a sign-in of this account still waiting in the queue is applied before it
 * and undone by it, so a queued login can never outlive this logout.
 *
 * If the queue cannot take the confirmation (or an op 4 leftover) the QueueUnavailableError
 * propagates (503 + Retry-After) even though op 4 itself may have been applied: the device is
 * signed out now, but only a retry, which is idempotent, makes sure it stays so.
 *
 * Op 4 always tries TPNS directly, even while the direct-path breaker queues sign-ins: the
 * device must stop receiving this account's notifications now (the next user of a shared
 * device), and sign-outs do not come in the peaks that sign-ins do.
 */
export async function signOut(runtime: Runtime, input: DeviceInput, meta: CommandMeta): Promise<Answer> {
  const { token, platform } = input;
  assertConfigured(runtime.tpns, [platform]);
  const direct = await applyDirect(runtime.tpns, { kind: 'unbind-tokens', platform, tokens: [token] });
  const leftover = direct.leftover ? planWork(direct.leftover, meta) : [];
  // A token TPNS refused outright (invalid) has no bindings to confirm away.
  const confirmation =
    direct.failed.length > 0
      ? []
      : planWork(
          { kind: 'remove-accounts', platform, items: [{ token, accounts: [accountRef(input)] }] },
          meta,
        );
  await runtime.queue.enqueue([...leftover, ...confirmation]);
  return answerOf({ applied: direct.applied, failed: direct.failed, queued: leftover.length, chunks: leftover.length });
}

/** Op 4 for many tokens: one TPNS call directly (each token confirmed in its group), more planned into chunks and queued (202). */
export async function bulkUnbindTokens(runtime: Runtime, input: BulkUnbindTokensInput, meta: CommandMeta): Promise<Answer> {
  assertConfigured(runtime.tpns, [input.platform]);
  return answerOf(await applyOrQueueBySize(runtime, [{ kind: 'unbind-tokens', platform: input.platform, tokens: input.tokens }], meta));
}
