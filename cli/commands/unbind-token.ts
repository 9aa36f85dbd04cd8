/** `unbind-token`: op 4 for one token: remove every account from it (what a sign-out does). */
import { Command } from 'commander';
import type { Platform } from '../../lib/tpns/types.js';
import { jsonOption, parseToken, platformOption } from '../options.js';
import { reportOperation } from '../report-operation.js';
import { createTpnsClient, withTpnsFlags } from '../tpns.js';
import type { TpnsFlags } from '../tpns.js';

interface UnbindTokenOptions extends TpnsFlags {
  token: string;
  platform: Platform;
  json?: boolean;
}

export function unbindTokenCommand(): Command {
  return withTpnsFlags(
    new Command('unbind-token')
      .description('remove every account from a device token')
      .requiredOption('--token <token>', 'device token', parseToken)
      .addOption(platformOption())
      .addOption(jsonOption()),
  ).action(async (options: UnbindTokenOptions) => {
    const client = await createTpnsClient(options);
    const result = await client.unbindTokens(options.platform, [options.token]);
    process.exitCode = reportOperation([{ platform: options.platform, result }], options.json ?? false);
  });
}
