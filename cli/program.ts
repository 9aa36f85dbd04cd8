/** The `tpns-accounts` command line: the commands, the exit-code contract and error reporting. */
import { Command, CommanderError } from 'commander';
import { SecretParameterError } from '../lib/config/secrets.js';
import { ConfigurationError } from '../lib/config/config.js';
import { TpnsAppError, TpnsAuthError, TpnsConfigError, TpnsPlatformNotConfiguredError, TpnsValidationError } from '../lib/tpns/errors.js';
import { bindCommand } from './commands/bind.js';
import { deleteAccountCommand } from './commands/delete-account.js';
import { emulatorCommand } from './commands/emulator.js';
import { erasureStatusCommand } from './commands/erasure-status.js';
import { importCommand } from './commands/import.js';
import { queryCommand } from './commands/query.js';
import { redriveCommand } from './commands/redrive.js';
import { unbindTokenCommand } from './commands/unbind-token.js';
import { verifyCommand } from './commands/verify.js';
import { EXIT, UsageError } from './exit.js';
import type { ExitCode } from './exit.js';

export function createProgram(): Command {
  const program = new Command('tpns-accounts')
    .description('Query, bind, unbind, bulk-import and audit Tencent Push (TPNS) account <-> device-token bindings, and read erasure receipts')
    .option('--stats', 'print the peak memory (RSS) to stderr when done')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const command of [
    queryCommand(),
    bindCommand(),
    unbindTokenCommand(),
    deleteAccountCommand(),
    importCommand(),
    verifyCommand(),
    emulatorCommand(),
    redriveCommand(),
    erasureStatusCommand(),
  ]) {
    program.addCommand(command.showHelpAfterError('(run with --help for usage)').exitOverride());
  }
  return program;
}

/** Errors that mean "fix the command, the configuration or the credentials", not "items failed". */
const USAGE_ERRORS = [
  UsageError,
  ConfigurationError,
  SecretParameterError,
  TpnsConfigError,
  TpnsValidationError,
  TpnsPlatformNotConfiguredError,
  TpnsAuthError,
  TpnsAppError,
];

/** Runs the CLI; resolves to the exit code (it never calls process.exit itself). */
export async function runCli(argv: readonly string[]): Promise<ExitCode> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return (process.exitCode as ExitCode | undefined) ?? EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message (or the help); only the exit code is ours.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const usage = USAGE_ERRORS.some((type) => error instanceof type);
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return usage ? EXIT.usage : EXIT.itemsFailed;
  } finally {
    if (program.opts<{ stats?: boolean }>().stats) {
      process.stderr.write(`stats: ${JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS })}\n`);
    }
  }
}
