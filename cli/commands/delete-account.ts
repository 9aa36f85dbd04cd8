/** `delete-account`: op 5 on every configured platform: remove every token from the account (erasure). */
import { Command } from 'commander';
import { accountTypeOption, jsonOption, parseAccount } from '../options.js';
import { recordOption, runRecorded } from '../record.js';
import { reportOperation } from '../report-operation.js';
import { createTpnsClient, withTpnsFlags } from '../tpns.js';
import type { TpnsFlags } from '../tpns.js';

interface DeleteAccountOptions extends TpnsFlags {
  account: string;
  type?: number;
  json?: boolean;
  record?: boolean;
}

export function deleteAccountCommand(): Command {
  return withTpnsFlags(
    new Command('delete-account')
      .description('remove every device token from an account, on every configured platform')
      .requiredOption('--account <account>', 'account id', parseAccount)
      .addOption(accountTypeOption())
      .addOption(recordOption())
      .addOption(jsonOption()),
  ).action(async (options: DeleteAccountOptions) => {
    if (options.record) {
      const { deleteAccount } = await import('../../lib/commands/delete-account.js');
      const ref = { account: options.account, ...(options.type === undefined ? {} : { accountType: options.type }) };
      process.exitCode = await runRecorded('delete-account', options.json ?? false, (runtime, meta) => deleteAccount(runtime, ref, meta));
      return;
    }
    const client = await createTpnsClient(options);
    const ref = { account: options.account, accountType: options.type };
    const results = await Promise.all(
      client.platforms.map(async (platform) => ({ platform, result: await client.deleteAccounts(platform, [ref]) })),
    );
    process.exitCode = reportOperation(results, options.json ?? false);
  });
}
