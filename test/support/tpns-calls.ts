/** Filters over the calls the TPNS emulator received (its request log), for assertions on what was sent. */
import type { TpnsEmulator } from '../../local/tpns-emulator/index.js';

/** batchoperate calls, of one operator type (2 overwrite, 3 remove listed accounts, 4 clear tokens, 5 clear accounts) or all. */
export const batchCalls = (tpns: TpnsEmulator, operatorType?: number) =>
  tpns.requests().filter((entry) => entry.path.endsWith('batchoperate') && (operatorType === undefined || entry.operatorType === operatorType));

/** Read-back calls (query op 2: the accounts of tokens). */
export const readBackCalls = (tpns: TpnsEmulator) => tpns.requests().filter((entry) => entry.path.endsWith('query') && entry.operatorType === 2);

/** The tokens a logged call named. */
export const tokensOf = (entry: { requested?: ({ token: string } | { account: string })[] }): string[] =>
  (entry.requested ?? []).flatMap((item) => ('token' in item ? [item.token] : []));
