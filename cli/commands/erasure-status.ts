/**
 * `erasure-status`: the receipt an account deletion left in the intent ledger (when it was
 * requested, applied on each app, verified empty by read-back), as `GET /v1/admin/erasures/{account}`
 * answers it. Reads the ledger only: no TPNS call, no queue.
 */
import { Command, Option } from 'commander';
import type { ErasureReceipt } from '../../lib/commands/erasure-status.js';
import type { Platform } from '../../lib/tpns/types.js';
import { deploymentRuntime } from '../aws.js';
import { EXIT, UsageError } from '../exit.js';
import { jsonOption, parseAccount, parseAccountType } from '../options.js';
import { printJson, printTable } from '../output.js';

interface ErasureStatusOptions {
  account: string;
  accountType?: number;
  /** `--type`, as the other commands spell it. */
  type?: number;
  json?: boolean;
}

const NOT_FOUND = 'no erasure receipt (never deleted, or expired after ERASURE_RETENTION_DAYS)';

/** One app's own state: verified once read back empty, applied once TPNS took op 5. */
const appState = ({ appliedAt, verifiedAt }: ErasureReceipt['apps'][Platform] & object): string =>
  verifiedAt ? 'verified' : appliedAt ? 'applied' : 'pending';

export function erasureStatusCommand(): Command {
  return new Command('erasure-status')
    .description("show an account deletion's receipt from the intent ledger: requested, applied and verified per app (exit 3 when there is none)")
    .requiredOption('--account <account>', 'the deleted account id', parseAccount)
    .addOption(new Option('--account-type <n>', 'TPNS account_type the account was deleted with (default 0)').argParser(parseAccountType))
    .addOption(new Option('--type <n>', 'the same as --account-type').argParser(parseAccountType).hideHelp())
    .addOption(jsonOption())
    .action(async (options: ErasureStatusOptions) => {
      if (options.accountType !== undefined && options.type !== undefined && options.accountType !== options.type) {
        throw new UsageError('--account-type and --type name two different account types');
      }
      const accountType = options.accountType ?? options.type;
      const runtime = await deploymentRuntime(process.env, 'erasure-status', ['BINDINGS_TABLE', 'ERASURE_KEY', 'AWS_REGION']);
      const { erasureStatus } = await import('../../lib/commands/erasure-status.js');
      const receipt = await erasureStatus(runtime, { account: options.account, ...(accountType === undefined ? {} : { accountType }) });
      if (!receipt) {
        if (options.json) printJson({ account: options.account, accountType: accountType ?? 0, error: NOT_FOUND });
        else process.stderr.write(`${options.account} (type ${accountType ?? 0}): ${NOT_FOUND}\n`);
        process.exitCode = EXIT.notFound;
        return;
      }
      if (options.json) {
        printJson({ ...receipt, accountType: accountType ?? 0 });
        return;
      }
      process.stdout.write(`${receipt.account} (type ${accountType ?? 0}): ${receipt.state}, requested ${receipt.requestedAt}\n`);
      printTable(
        ['app', 'state', 'requestedAt', 'appliedAt', 'verifiedAt'],
        Object.entries(receipt.apps).map(([app, times]) => ({
          app,
          state: appState(times ?? {}),
          requestedAt: receipt.requestedAt,
          appliedAt: times?.appliedAt ?? '-',
          verifiedAt: times?.verifiedAt ?? '-',
        })),
      );
    });
}
