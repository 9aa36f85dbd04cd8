/** `emulator`: runs the local TPNS emulator in the foreground, exactly as `npm run emulator` does. */
import { Command } from 'commander';

export function emulatorCommand(): Command {
  return new Command('emulator')
    .description('start the local TPNS emulator (same as `npm run emulator`; settings from TPNS_* and TPNS_EMULATOR_* variables)')
    .action(async () => {
      // The emulator's own entry point: one implementation of its startup, banner and shutdown.
      await import('../../local/tpns-emulator/main.js');
    });
}
