/** Sign-out on a device: op 4 removes every account from the token, the ones the ledger never saw included. */
import pLimit from 'p-limit';
import { answerOf } from './answer.js';
import type { Answer, CommandMeta } from './answer.js';
import type { Convergence } from '../convergence/push.js';
import type { BulkUnbindTokensInput, DeviceInput } from './schemas.js';
import { BULK_RECORD_CONCURRENCY, DIRECT_ITEM_LIMIT, assertConfigured, pushRecorded, queueRecorded } from './work.js';

/**
 * Recorded, then pushed directly: the device must stop receiving this account's notifications
 * now (the next user of a shared device). Any sign-in of the token recorded before is void.
 */
export async function signOut(runtime: Convergence, input: DeviceInput, meta: CommandMeta): Promise<Answer> {
  assertConfigured(runtime.tpns, [input.platform]);
  const write = await runtime.ledger.recordSignOut({ platform: input.platform, token: input.token }, { claim: true });
  return answerOf(await pushRecorded(runtime, [write], meta));
}

/** Op 4 for many tokens: pushed directly up to one TPNS call, else queued (202). */
export async function bulkUnbindTokens(runtime: Convergence, input: BulkUnbindTokensInput, meta: CommandMeta): Promise<Answer> {
  assertConfigured(runtime.tpns, [input.platform]);
  const tokens = [...new Set(input.tokens)];
  const direct = tokens.length <= DIRECT_ITEM_LIMIT;
  const limit = pLimit(BULK_RECORD_CONCURRENCY);
  const writes = await Promise.all(
    tokens.map((token) => limit(() => runtime.ledger.recordSignOut({ platform: input.platform, token }, { claim: direct }))),
  );
  if (direct) return answerOf(await pushRecorded(runtime, writes, meta));
  return answerOf(await queueRecorded(runtime, writes, meta));
}
