/** `unbind-token`: op 4 for one token: remove every account from it (what a sign-out does). */
import { Command } from 'commander';
import type { Platform } from '../../lib/tpns/types.js';
import { jsonOption, parseToken, platformOption } from '../options.js';
import { recordOption, runRecorded } from '../record.js';
import { reportOperation } from '../report-operation.js';
import { createTpnsClient, withTpnsFlags } from '../tpns.js';
import type { TpnsFlags } from '../tpns.js';

interface UnbindTokenOptions extends TpnsFlags {
  token: string;
  platform: Platform;
  json?: boolean;
  record?: boolean;
}

export function unbindTokenCommand(): Command {
  return withTpnsFlags(
    new Command('unbind-token')
      .description('remove every account from a device token')
      .requiredOption('--token <token>', 'device token', parseToken)
      .addOption(platformOption())
      .addOption(recordOption())
      .addOption(jsonOption()),
  ).action(async (options: UnbindTokenOptions) => {
    if (options.record) {
      const { bulkUnbindTokens } = await import('../../lib/commands/sign-out.js');
      const input = { platform: options.platform, tokens: [options.token] };
      process.exitCode = await runRecorded('unbind-token', options.json ?? false, (runtime, meta) => bulkUnbindTokens(runtime, input, meta));
      return;
    }
    const client = await createTpnsClient(options);
    const result = await client.unbindTokens(options.platform, [options.token]);
    process.exitCode = reportOperation([{ platform: options.platform, result }], options.json ?? false);
  });
}
