/** `redrive`: moves dead-lettered work back to the binding queue after a fix (lib/queue/redrive.ts). */
import { Command, Option } from 'commander';
import { UsageError } from '../exit.js';
import { jsonOption, parsePositiveInt } from '../options.js';
import { printJson } from '../output.js';

interface RedriveFlags {
  includeRefused?: boolean;
  limit?: number;
  json?: boolean;
}

function queueUrl(env: NodeJS.ProcessEnv, name: 'BINDING_QUEUE_URL' | 'BINDING_DLQ_URL'): string {
  const url = env[name];
  if (!url || !URL.canParse(url)) throw new UsageError(`redrive needs ${name} set to the queue's URL`);
  return url;
}

export function redriveCommand(): Command {
  return new Command('redrive')
    .description(
      'move dead-lettered work back to the binding queue (BINDING_DLQ_URL -> BINDING_QUEUE_URL), keeping each FIFO group; ' +
        'items TPNS refused for good and invalid messages stay unless --include-refused',
    )
    .option('--include-refused', 'also re-queue items TPNS refused for good (after fixing their cause)')
    .addOption(new Option('--limit <n>', 'move at most n messages').argParser(parsePositiveInt))
    .addOption(jsonOption())
    .action(async (flags: RedriveFlags) => {
      const env = process.env;
      const options = {
        dlqUrl: queueUrl(env, 'BINDING_DLQ_URL'),
        queueUrl: queueUrl(env, 'BINDING_QUEUE_URL'),
        ...(env.AWS_ENDPOINT_URL_SQS ? { endpoint: env.AWS_ENDPOINT_URL_SQS } : {}),
        ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
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
