/**
 * The physical reference: plain signed `fetch` calls to TPNS's batchoperate (op 2), no client,
 * no validation, no queue. What the emulator can absorb at a given concurrency, and what a team
 * that sends one call per binding by hand would get.
 */
import pLimit from 'p-limit';
import { signRequest } from '../lib/tpns/sign.js';
import type { AppCredentials, Binding, Platform } from '../lib/tpns/types.js';

const BATCH_OPERATE_URL_PATH = '/v3/device/account/batchoperate';
const OVERWRITE_BIND = 2;

export interface RawTarget {
  endpoint: string;
  apps: Record<Platform, AppCredentials>;
}

/** One op 2 call; throws unless TPNS answered ret_code 0. */
export async function rawBind(target: RawTarget, platform: Platform, bindings: readonly Binding[]): Promise<void> {
  const app = target.apps[platform];
  const body = JSON.stringify({
    operator_type: OVERWRITE_BIND,
    platform,
    token_accounts: bindings.map(({ token, account }) => ({ token, account_list: [{ account }] })),
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const response = await fetch(`${target.endpoint}${BATCH_OPERATE_URL_PATH}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      AccessId: app.accessId,
      TimeStamp: timestamp,
      Sign: signRequest(app.secretKey, timestamp, app.accessId, body),
    },
    body,
  });
  const reply = (await response.json()) as { ret_code?: number };
  if (response.status !== 200 || reply.ret_code !== 0) throw new Error(`raw op 2 answered HTTP ${response.status} ret_code ${reply.ret_code}`);
}

/** `bindings` sent `perCall` at a time with `concurrency` calls in flight; items per second. */
export async function rawBindThroughput(
  target: RawTarget,
  platform: Platform,
  bindings: readonly Binding[],
  perCall: number,
  concurrency: number,
): Promise<number> {
  const limit = pLimit(concurrency);
  const calls: Binding[][] = [];
  for (let start = 0; start < bindings.length; start += perCall) calls.push(bindings.slice(start, start + perCall));
  const started = performance.now();
  await Promise.all(calls.map((call) => limit(() => rawBind(target, platform, call))));
  return bindings.length / ((performance.now() - started) / 1000);
}
