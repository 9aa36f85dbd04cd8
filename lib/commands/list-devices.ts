/**
 * The caller's devices: from the ledger (read-your-writes: what was accepted, with how far TPNS
 * has come), or live from TPNS (query op 1 on every configured app).
 */
import { tokenIntent } from '../convergence/rule.js';
import type { DeviceState } from '../ledger/records.js';
import type { Platform } from '../tpns/types.js';
import type { Convergence } from '../convergence/push.js';
import { accountRef } from './schemas.js';
import type { AccountRefInput, DeviceSource } from './schemas.js';
import { configuredPlatforms } from './work.js';

export interface LedgerDevice {
  platform: Platform;
  token: string;
  state: DeviceState;
  /** When the sign-in that bound it was accepted. */
  since: string;
}

export interface DeviceList<D = LedgerDevice> {
  account: string;
  devices: D[];
}

export async function listDevices(runtime: Convergence, input: AccountRefInput): Promise<DeviceList> {
  const ref = accountRef(input);
  const type = ref.accountType ?? 0;
  const { ledger } = runtime;
  const [keys, tombstone] = await Promise.all([ledger.tokensOfAccount(ref), ledger.getTombstone(ref)]);
  const records = await ledger.getTokens(keys);
  const devices: LedgerDevice[] = [];
  for (const record of records.values()) {
    const intent = tokenIntent(record, (other) => (other.account === ref.account && (other.accountType ?? 0) === type ? tombstone : undefined));
    if (intent.bound.get(type) !== ref.account) continue;
    const entry = record.entries.find((candidate) => candidate.accountType === type);
    const state: DeviceState = record.stateV >= record.v ? record.state : 'pending';
    devices.push({ platform: record.platform, token: record.token, state, since: entry?.since ?? record.stateAt });
  }
  devices.sort((a, b) => a.since.localeCompare(b.since));
  return { account: input.account, devices };
}

/** Read-only, so nothing to queue: a TPNS failure after the retry budget throws (503 at the HTTP layer). */
export async function listDevicesAtTpns(runtime: Convergence, input: AccountRefInput): Promise<DeviceList<{ platform: Platform; token: string }>> {
  const ref = accountRef(input);
  const perPlatform = await Promise.all(
    configuredPlatforms(runtime.tpns).map(async (platform) => {
      const [answer] = await runtime.tpns.tokensOfAccounts(platform, [ref]);
      return (answer?.tokens ?? []).map((token) => ({ platform, token }));
    }),
  );
  return { account: input.account, devices: perPlatform.flat() };
}

/** The command's answer (200): the devices from the `source` asked for, the ledger by default. */
export async function answerDeviceList(runtime: Convergence, { source, ...input }: AccountRefInput & { source?: DeviceSource }) {
  return { status: 200, body: source === 'tpns' ? await listDevicesAtTpns(runtime, input) : await listDevices(runtime, input) };
}
