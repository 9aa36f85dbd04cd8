/** Entry point of `tpns-accounts` (see bin/tpns-accounts.mjs). */

// A terminal is not CloudWatch: EMF metric lines from lib/ (a --record run counts its TPNS calls)
// would only corrupt stdout, e.g. `--json` piped to jq. Powertools reads this when lib/ loads, so
// it is set before the program is imported.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const { runCli } = await import('./program.js');

process.exitCode = await runCli(process.argv);
