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
    // Side by side, each app on its own: one app refusing (its credentials) must not hide that the other erased the account.
    const settled = await Promise.allSettled(client.platforms.map(async (platform) => ({ platform, result: await client.deleteAccounts(platform, [ref]) })));
    const results = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const refusal = settled.find((outcome) => outcome.status === 'rejected');
    if (!refusal) {
      process.exitCode = reportOperation(results, options.json ?? false);
      return;
    }
    const reason: unknown = refusal.reason;
    const error = reason instanceof Error ? reason : new Error(String(reason));
    if (results.length > 0) {
      reportOperation(results, options.json ?? false);
      error.message += ` (applied on ${results.map(({ platform }) => platform).join(', ')}, as printed; re-run once fixed: op 5 is idempotent)`;
    }
    throw error;
  });
}
