/** `delete-account`: op 5 on every configured platform: remove every token from the account (erasure). */
import { Command } from 'commander';
import { accountTypeOption, jsonOption, parseAccount } from '../options.js';
import { reportOperation } from '../report-operation.js';
import { createTpnsClient, withTpnsFlags } from '../tpns.js';
import type { TpnsFlags } from '../tpns.js';

interface DeleteAccountOptions extends TpnsFlags {
  account: string;
  type?: number;
  json?: boolean;
}

export function deleteAccountCommand(): Command {
  return withTpnsFlags(
    new Command('delete-account')
      .description('remove every device token from an account, on every configured platform')
      .requiredOption('--account <account>', 'account id', parseAccount)
      .addOption(accountTypeOption())
      .addOption(jsonOption()),
  ).action(async (options: DeleteAccountOptions) => {
    const client = await createTpnsClient(options);
    const ref = { account: options.account, accountType: options.type };
    const results = await Promise.all(
      client.platforms.map(async (platform) => ({ platform, result: await client.deleteAccounts(platform, [ref]) })),
    );
    process.exitCode = reportOperation(results, options.json ?? false);
  });
}
