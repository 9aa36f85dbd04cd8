/** Entry point of `tpns-accounts` (see bin/tpns-accounts.mjs). */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
