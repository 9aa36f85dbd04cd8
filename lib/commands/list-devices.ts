/** The caller's bound devices: query op 1 on every configured platform. */
import type { Platform } from '../tpns/types.js';
import { configuredPlatforms } from './delete-account.js';
import type { Runtime } from './runtime.js';
import { accountRef } from './schemas.js';
import type { AccountRefInput } from './schemas.js';

export interface DeviceList {
  account: string;
  devices: { platform: Platform; token: string }[];
}

/** Read-only, so nothing to queue: a TPNS failure after the retry budget throws (503 at the HTTP layer). */
export async function listDevices(runtime: Runtime, input: AccountRefInput): Promise<DeviceList> {
  const ref = accountRef(input);
  const perPlatform = await Promise.all(
    configuredPlatforms(runtime.tpns).map(async (platform) => {
      const [answer] = await runtime.tpns.tokensOfAccounts(platform, [ref]);
      return (answer?.tokens ?? []).map((token) => ({ platform, token }));
    }),
  );
  return { account: input.account, devices: perPlatform.flat() };
}
