/**
 * `redrive`: moves dead letters back to the binding queue after a fix (lib/queue/redrive.ts). A
 * moved letter names its key; the worker reads it back against the ledger's current intent and
 * repairs it, so order and duplicates do not matter.
 */
import { Command, Option } from 'commander';
import { loadConfig } from '../../lib/config/config.js';
import { requireAws } from '../aws.js';
import { jsonOption, parsePositiveInt } from '../options.js';
import { printJson } from '../output.js';

interface RedriveFlags {
  includeRefused?: boolean;
  limit?: number;
  json?: boolean;
}

export function redriveCommand(): Command {
  return new Command('redrive')
    .description(
      'move dead letters back to the binding queue (BINDING_DLQ_URL -> BINDING_QUEUE_URL): keys that did not converge, ' +
        'pushes TPNS kept failing and messages SQS gave up on; keys TPNS refused for good stay unless --include-refused, invalid messages always stay',
    )
    .option('--include-refused', 'also re-queue keys TPNS refused for good (e.g. 1008006), after fixing their cause')
    .addOption(new Option('--limit <n>', 'move at most n messages').argParser(parsePositiveInt))
    .addOption(jsonOption())
    .action(async (flags: RedriveFlags) => {
      await requireAws(process.env, 'redrive', ['BINDING_DLQ_URL', 'BINDING_QUEUE_URL', 'AWS_REGION']);
      const { settings } = await loadConfig(process.env);
      // Region and endpoint (AWS_REGION, AWS_ENDPOINT_URL_SQS) are the SDK's own business.
      const options = {
        dlqUrl: settings.dlqUrl ?? '',
        queueUrl: settings.queueUrl ?? '',
        ...(flags.includeRefused ? { includeRefused: true } : {}),
        ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
      };
      // Loaded only here: the other commands never pay for the AWS SDK.
      const { redriveDeadLetters } = await import('../../lib/queue/redrive.js');
      const report = await redriveDeadLetters(options);
      if (flags.json) return printJson(report);
      const kept = Object.entries(report.kept).map(([code, count]) => `${code} x${count}`).join(', ') || 'nothing';
      process.stdout.write(`moved ${report.moved} message(s) back to the binding queue; kept in the dead-letter queue: ${kept}\n`);
    });
}
