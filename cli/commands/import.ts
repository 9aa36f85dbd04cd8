/**
 * `import`: bulk binds (op 2) from a CSV or JSONL file of any size. The file is streamed, every
 * line validated with the client's schemas (its line number in every error), valid lines sent in
 * chunks with bounded concurrency (directly to TPNS, or recorded in the intent ledger and queued
 * for the worker), and every line that was not applied written to a failures file that `import`
 * can re-run.
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { LedgerUnavailableError } from '../../lib/ledger/records.js';
import { QueueUnavailableError } from '../../lib/queue/messages.js';
import type { Binding } from '../../lib/tpns/types.js';
import { EXIT, UsageError } from '../exit.js';
import { ChunkDispatcher } from '../chunk-dispatcher.js';
import { FailuresFile } from '../import/failures-file.js';
import type { FailedLine } from '../import/failures-file.js';
import { Progress } from '../import/progress.js';
import { directSender, queueSender } from '../import/senders.js';
import type { Sender } from '../import/senders.js';
import { BINDING_LINE_SHAPE, bindingLineSchema, checkedLines } from '../input/line-schemas.js';
import type { BindingLine } from '../input/line-schemas.js';
import { formatOf, INPUT_FORMATS, openRecords } from '../input/records.js';
import type { InputFormat } from '../input/records.js';
import { jsonOption, parsePositiveInt } from '../options.js';
import { printJson } from '../output.js';
import { createTpnsClient, withTpnsFlags } from '../tpns.js';
import type { TpnsFlags } from '../tpns.js';

interface ImportOptions extends TpnsFlags {
  format?: InputFormat;
  concurrency: number;
  viaQueue?: boolean;
  dryRun?: boolean;
  failures?: string;
  quiet?: boolean;
  json?: boolean;
}

type Mode = 'direct' | 'queue' | 'dry-run';
type LineBinding = BindingLine & { line: number };

/** Chunks in flight at once by default: TPNS's client default, low enough not to trip 1008028. */
const DEFAULT_CONCURRENCY = 4;
/** The code of a line rejected before sending (not CSV/JSON, or a field TPNS would refuse). */
export const INVALID_LINE = 'INVALID_LINE';
/** Bad lines echoed to stderr; the failures file has all of them. */
const MAX_ERRORS_SHOWN = 20;

const SUCCEEDED_LABEL: Record<Mode, string> = { direct: 'bound', queue: 'queued', 'dry-run': 'valid' };

export function importCommand(): Command {
  return withTpnsFlags(
    new Command('import')
      .description('bind device tokens to accounts in bulk from a CSV (token,account,platform[,accountType]) or JSONL file')
      .argument('<file>', 'a .csv file with a header line, or a .jsonl file of {"token","account","platform","accountType"?} objects')
      .addOption(new Option('--format <format>', 'input format (default: from the file extension)').choices(INPUT_FORMATS))
      .option('--concurrency <n>', 'chunks of 20 in flight at once', parsePositiveInt, DEFAULT_CONCURRENCY)
      .option(
        '--via-queue',
        'record the binds in the intent ledger and queue them for the deployed worker instead of calling TPNS ' +
          '(needs BINDINGS_TABLE, BINDING_QUEUE_URL, ERASURE_KEY_PARAM or ERASURE_KEY, AWS_REGION)',
      )
      .option('--dry-run', 'validate every line, send nothing')
      .option('--failures <file>', 'where to write the lines that were not applied (default: <file>.failures.jsonl)')
      .option('--quiet', 'no progress output')
      .addOption(jsonOption().default(false, 'a text summary')),
  ).action(async (file: string, options: ImportOptions) => {
    const mode: Mode = options.dryRun ? 'dry-run' : options.viaQueue ? 'queue' : 'direct';
    const failuresPath = options.failures ?? `${file}.failures.jsonl`;
    if (resolve(failuresPath) === resolve(file)) throw new UsageError('--failures must not be the input file');
    const source = await openRecords(file, formatOf(file, options.format), BINDING_LINE_SHAPE);
    const sender = mode === 'dry-run' ? undefined : await senderFor(mode, options);

    const failures = await FailuresFile.open(failuresPath);
    // `failed`: lines TPNS (or the ledger) refused; invalid lines are counted apart, as in the summary.
    const counts = { lines: 0, succeeded: 0, invalid: 0, failed: 0 };
    const progress = new Progress<Omit<typeof counts, 'lines'>>(source.totalBytes, {
      label: 'import',
      quiet: options.quiet ?? false,
      counters: { succeeded: SUCCEEDED_LABEL[mode], invalid: 'invalid', failed: 'failed' },
    });
    const showProgress = (): void => progress.update(source.bytesRead(), counts.lines, counts);
    const startedAt = Date.now();

    const fail = async (failed: FailedLine): Promise<void> => {
      if (failed.code === INVALID_LINE) counts.invalid += 1;
      else counts.failed += 1;
      if (failures.count < MAX_ERRORS_SHOWN) progress.log(`line ${failed.line}: ${failed.code}: ${failed.reason}`);
      await failures.write(failed);
    };
    const dispatcher =
      sender &&
      new ChunkDispatcher<LineBinding>(
        async (platform, lines) => {
          const results = await sender.send(platform, lines.map(toBinding));
          for (const [index, result] of results.entries()) {
            const { line, ...item } = lines[index]!;
            if (result.ok) counts.succeeded += 1;
            else await fail({ line, item, code: result.code, reason: result.reason, retryable: result.retryable });
          }
          showProgress();
        },
        { concurrency: options.concurrency, chunkSize: sender.chunkSize, orderKey: (line) => line.token },
      );

    let stopped: unknown;
    try {
      for await (const checked of checkedLines(source.records, bindingLineSchema)) {
        counts.lines += 1;
        if (!checked.ok) {
          await fail({ line: checked.line, item: checked.item, code: INVALID_LINE, reason: checked.reason });
        } else if (dispatcher) await dispatcher.add({ ...checked.value, line: checked.line });
        else counts.succeeded += 1;
        if (counts.lines % 1000 === 0) showProgress();
      }
      await dispatcher?.flush();
    } catch (error) {
      stopped = error;
      await dispatcher?.settle();
    }
    // A stopped import keeps the bar where it stopped.
    if (stopped === undefined) progress.finish(counts.lines, counts);
    progress.stop();
    await failures.close();

    const summary = {
      file,
      mode,
      lines: counts.lines,
      [SUCCEEDED_LABEL[mode]]: counts.succeeded,
      invalid: counts.invalid,
      failed: counts.failed,
      ...(failures.count > 0 ? { failuresFile: failuresPath } : {}),
      ...(stopped === undefined ? {} : { stoppedAfterLine: counts.lines }),
      seconds: Math.round((Date.now() - startedAt) / 100) / 10,
    };
    if (options.json) printJson(summary);
    else printSummary(summary, failuresPath, failures.count, stopped === undefined ? undefined : file);
    if (stopped instanceof QueueUnavailableError || stopped instanceof LedgerUnavailableError) {
      stopped.message += ' (nothing after the reported line was recorded or queued; re-run the import: recording is idempotent)';
    }
    if (stopped !== undefined) throw stopped;
    process.exitCode = counts.invalid + counts.failed > 0 ? EXIT.itemsFailed : EXIT.ok;
  });
}

async function senderFor(mode: 'direct' | 'queue', options: ImportOptions): Promise<Sender> {
  return mode === 'queue' ? queueSender(process.env) : directSender(await createTpnsClient(options));
}

function toBinding({ token, account, accountType }: LineBinding): Binding {
  return { token, account, accountType };
}

/** `stoppedInput`: the import stopped, so the lines after the stop are in no failures file: the whole input is re-run. */
function printSummary(summary: Record<string, unknown>, failuresPath: string, failed: number, stoppedInput?: string): void {
  const { file, mode, seconds, failuresFile: _failuresFile, ...numbers } = summary;
  const lines = [
    `import ${String(file)} (${String(mode)}) in ${String(seconds)} s`,
    ...Object.entries(numbers).map(([label, value]) => `  ${label.padEnd(16)} ${String(value)}`),
  ];
  if (stoppedInput !== undefined) {
    lines.push(`  stopped: fix the cause and re-run the whole file (binding is idempotent): tpns-accounts import ${stoppedInput}`);
    if (failed > 0) lines.push(`  failures of the lines before the stop: ${failuresPath}`);
  } else if (failed > 0) lines.push(`  failures written to ${failuresPath}; fix them and re-run: tpns-accounts import ${failuresPath}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
