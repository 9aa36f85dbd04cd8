/** `bind`: op 2 for one token: the token now belongs to this account only (overwrite). */
import { Command } from 'commander';
import type { Platform } from '../../lib/tpns/types.js';
import { accountTypeOption, jsonOption, parseAccount, parseToken, platformOption } from '../options.js';
import { recordOption, runRecorded } from '../record.js';
import { reportOperation } from '../report-operation.js';
import { createTpnsClient, withTpnsFlags } from '../tpns.js';
import type { TpnsFlags } from '../tpns.js';

interface BindOptions extends TpnsFlags {
  token: string;
  account: string;
  platform: Platform;
  type?: number;
  json?: boolean;
  record?: boolean;
}

export function bindCommand(): Command {
  return withTpnsFlags(
    new Command('bind')
      .description('bind a device token to an account (overwrites the account of the same type on that token)')
      .requiredOption('--token <token>', 'device token', parseToken)
      .requiredOption('--account <account>', 'account id', parseAccount)
      .addOption(platformOption())
      .addOption(accountTypeOption())
      .addOption(recordOption())
      .addOption(jsonOption()),
  ).action(async (options: BindOptions) => {
    if (options.record) {
      const { signIn } = await import('../../lib/commands/sign-in.js');
      const device = { token: options.token, account: options.account, platform: options.platform, ...(options.type === undefined ? {} : { accountType: options.type }) };
      process.exitCode = await runRecorded('bind', options.json ?? false, (runtime, meta) => signIn(runtime, device, meta));
      return;
    }
    const client = await createTpnsClient(options);
    const binding = { token: options.token, account: options.account, accountType: options.type };
    const result = await client.bind(options.platform, [binding]);
    process.exitCode = reportOperation([{ platform: options.platform, result }], options.json ?? false);
  });
}
