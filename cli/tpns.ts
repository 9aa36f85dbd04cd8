/**
 * The TPNS client the commands share, configured from the same TPNS_* variables as the deployed
 * functions (SecretKeys from SSM too, when TPNS_*_SECRET_KEY_PARAM is set), with `--region` and
 * `--endpoint` taking precedence.
 */
import type { Command } from 'commander';
import { loadConfig } from '../lib/config/config.js';
import { TpnsClient } from '../lib/tpns/client.js';
import { WORKER_RETRY_BUDGET_MS } from '../lib/tpns/constants.js';
import type { TpnsAccountApi } from '../lib/tpns/types.js';
import { UsageError } from './exit.js';

export interface TpnsFlags {
  region?: string;
  endpoint?: string;
}

/** Adds `--region` and `--endpoint` to a command that talks to TPNS. */
export function withTpnsFlags(command: Command): Command {
  return command
    .option('--region <region>', 'TPNS access point: guangzhou, shanghai, hongkong, singapore (default: $TPNS_REGION)')
    .option('--endpoint <url>', 'base URL overriding the region host, e.g. the emulator (default: $TPNS_ENDPOINT)');
}

export async function createTpnsClient(flags: TpnsFlags, env: NodeJS.ProcessEnv = process.env): Promise<TpnsAccountApi> {
  const config = await loadConfig({
    ...env,
    ...(flags.region ? { TPNS_REGION: flags.region } : {}),
    ...(flags.endpoint ? { TPNS_ENDPOINT: flags.endpoint } : {}),
  });
  // An operator can wait out a rate-limit burst: the queue worker's budget, not a user's.
  const client = new TpnsClient({ ...config.tpns, retry: { budgetMs: WORKER_RETRY_BUDGET_MS } });
  if (client.platforms.length === 0) {
    throw new UsageError(
      'No TPNS platform is configured: set TPNS_ANDROID_ACCESS_ID/TPNS_ANDROID_SECRET_KEY and/or TPNS_IOS_ACCESS_ID/TPNS_IOS_SECRET_KEY',
    );
  }
  return client;
}
