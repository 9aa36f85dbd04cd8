/**
 * `verify`: audits TPNS against a file, read-only.
 * - `verify <file>` (expected bindings, same format as import): reports `missing` (the token has
 *   no account of the expected type), `bound-to-other` (another account holds that type) and
 *   `unexpected` (the token also holds an account of a type the file does not list for it).
 * - `verify --deleted <file>` (accounts, `account[,accountType]`): reports `still-bound` for every
 *   token an account that must be erased still has, on every configured platform.
 * Lines of one token are compared together when they fall in the same chunk of 20 tokens: list
 * a token's accounts on adjacent lines.
 */
import { Command, Option } from 'commander';
import type { AccountRef, Platform, TpnsAccountApi } from '../../lib/tpns/types.js';
import { ChunkDispatcher } from '../chunk-dispatcher.js';
import type { ChunkItem } from '../chunk-dispatcher.js';
import { Progress } from '../import/progress.js';
import { EXIT, UsageError } from '../exit.js';
import { ACCOUNT_LINE_SHAPE, accountLineSchema, BINDING_LINE_SHAPE, bindingLineSchema, checkedLines } from '../input/line-schemas.js';
import type { AccountLine, BindingLine } from '../input/line-schemas.js';
import { formatOf, INPUT_FORMATS, openRecords } from '../input/records.js';
import type { InputFormat, RecordShape } from '../input/records.js';
import { jsonOption, parsePositiveInt } from '../options.js';
import { printJson, printTable } from '../output.js';
import { createTpnsClient, withTpnsFlags } from '../tpns.js';
import type { TpnsFlags } from '../tpns.js';

interface VerifyOptions extends TpnsFlags {
  deleted?: string;
  format?: InputFormat;
  concurrency: number;
  quiet?: boolean;
  json?: boolean;
}

export type DriftKind = 'missing' | 'bound-to-other' | 'unexpected' | 'still-bound';

export interface Drift {
  kind: DriftKind;
  line: number;
  platform: Platform;
  token: string;
  /** What the file says should be there (`null`: nothing, for still-bound). */
  expected: Required<AccountRef> | null;
  /** What TPNS has instead (`null`: nothing). */
  actual: Required<AccountRef> | null;
}

/** Queries take at most 20 tokens or accounts per call, like every other TPNS list. */
const QUERY_CHUNK_SIZE = 20;
const DEFAULT_CONCURRENCY = 4;

const ref = ({ account, accountType }: AccountRef): Required<AccountRef> => ({ account, accountType: accountType ?? 0 });

export function verifyCommand(): Command {
  return withTpnsFlags(
    new Command('verify')
      .description('report drift between TPNS and a file of expected bindings, or accounts that must have no tokens (--deleted)')
      .argument('[file]', 'expected bindings: .csv (token,account,platform[,accountType]) or .jsonl')
      .option('--deleted <file>', 'accounts that must have no tokens left: .csv (account[,accountType]) or .jsonl')
      .addOption(new Option('--format <format>', 'input format (default: from the file extension)').choices(INPUT_FORMATS))
      .option('--concurrency <n>', 'queries in flight at once', parsePositiveInt, DEFAULT_CONCURRENCY)
      .option('--quiet', 'no progress output')
      .addOption(jsonOption()),
  ).action(async (file: string | undefined, options: VerifyOptions) => {
    if ((file === undefined) === (options.deleted === undefined)) {
      throw new UsageError('verify needs exactly one of <file> (expected bindings) or --deleted <file> (accounts)');
    }
    const client = await createTpnsClient(options);
    const audit = new Audit(client, options.concurrency, options.quiet ?? false);
    if (file !== undefined) await audit.run(file, BINDING_LINE_SHAPE, options.format);
    else await audit.runDeleted(options.deleted!, ACCOUNT_LINE_SHAPE, options.format);
    process.exitCode = audit.report(options.json ?? false);
  });
}

class Audit {
  readonly drift: Drift[] = [];
  readonly invalid: { line: number; reason: string }[] = [];
  checked = 0;
  readonly #client: TpnsAccountApi;
  readonly #concurrency: number;
  readonly #quiet: boolean;
  /** Set while a file is read. */
  #progress: Progress<{ checked: number; drift: number; invalid: number }> | undefined;
  #showProgress: () => void = () => undefined;

  constructor(client: TpnsAccountApi, concurrency: number, quiet: boolean) {
    this.#client = client;
    this.#concurrency = concurrency;
    this.#quiet = quiet;
  }

  /** Chunks of 20 lines per platform, checked `concurrency` at a time, the progress shown after each. */
  #dispatcher<T extends ChunkItem>(check: (platform: Platform, lines: T[]) => Promise<void>): ChunkDispatcher<T> {
    return new ChunkDispatcher<T>(
      async (platform, lines) => {
        await check(platform, lines);
        this.#showProgress();
      },
      { concurrency: this.#concurrency, chunkSize: QUERY_CHUNK_SIZE },
    );
  }

  /** Expected bindings: one accountsOfTokens query per chunk of 20 tokens. */
  async run(file: string, shape: RecordShape, format?: InputFormat): Promise<void> {
    type Expected = BindingLine & { line: number };
    const dispatcher = this.#dispatcher<Expected>((platform, lines) => this.#compareTokens(platform, lines));
    try {
      for await (const value of this.#lines(file, shape, format, bindingLineSchema)) await dispatcher.add(value);
      await dispatcher.flush();
      this.#finishProgress();
    } finally {
      this.#stopProgress();
    }
  }

  /** Erased accounts: one tokensOfAccounts query per chunk of 20 accounts, on every platform. */
  async runDeleted(file: string, shape: RecordShape, format?: InputFormat): Promise<void> {
    type Erased = AccountLine & { line: number; platform: Platform };
    const dispatcher = this.#dispatcher<Erased>((platform, lines) => this.#checkErased(platform, lines));
    try {
      for await (const value of this.#lines(file, shape, format, accountLineSchema)) {
        for (const platform of this.#client.platforms) await dispatcher.add({ ...value, platform });
      }
      await dispatcher.flush();
      this.#finishProgress();
    } finally {
      this.#stopProgress();
    }
  }

  report(json: boolean): number {
    const counts = Object.fromEntries(
      (['missing', 'bound-to-other', 'unexpected', 'still-bound'] as const).map((kind) => [kind, this.drift.filter((entry) => entry.kind === kind).length]),
    );
    const drift = [...this.drift].sort((a, b) => a.line - b.line);
    if (json) printJson({ checked: this.checked, counts, drift, invalid: this.invalid });
    else {
      if (drift.length > 0) {
        const show = (value: Required<AccountRef> | null): string => (value ? `${value.account} (type ${value.accountType})` : '(none)');
        printTable(
          ['kind', 'line', 'platform', 'token', 'expected', 'actual'],
          drift.map((entry) => ({ ...entry, expected: show(entry.expected), actual: show(entry.actual) })),
        );
      }
      for (const { line, reason } of this.invalid) process.stderr.write(`line ${line}: invalid: ${reason}\n`);
      const found = Object.entries(counts).filter(([, count]) => count > 0).map(([kind, count]) => `${count} ${kind}`);
      process.stdout.write(
        `checked ${this.checked} lines: ${found.length > 0 ? `drift: ${found.join(', ')}` : 'no drift'}${this.invalid.length > 0 ? `; ${this.invalid.length} invalid lines` : ''}\n`,
      );
    }
    return this.drift.length > 0 || this.invalid.length > 0 ? EXIT.itemsFailed : EXIT.ok;
  }

  async *#lines<T>(file: string, shape: RecordShape, format: InputFormat | undefined, schema: Parameters<typeof checkedLines<T>>[1]) {
    const source = await openRecords(file, formatOf(file, format), shape);
    const progress = new Progress<{ checked: number; drift: number; invalid: number }>(source.totalBytes, {
      label: 'verify',
      quiet: this.#quiet,
      counters: { checked: 'checked', drift: 'drift', invalid: 'invalid' },
    });
    this.#progress = progress;
    this.#showProgress = () => progress.update(source.bytesRead(), this.checked + this.invalid.length, this.#counts());
    for await (const checked of checkedLines(source.records, schema)) {
      if (!checked.ok) this.invalid.push({ line: checked.line, reason: checked.reason });
      else {
        this.checked += 1;
        yield { ...checked.value, line: checked.line };
      }
      if ((this.checked + this.invalid.length) % 1000 === 0) this.#showProgress();
    }
  }

  #counts(): { checked: number; drift: number; invalid: number } {
    return { checked: this.checked, drift: this.drift.length, invalid: this.invalid.length };
  }

  /** The final state, before the report is printed below it. */
  #finishProgress(): void {
    this.#progress?.finish(this.checked + this.invalid.length, this.#counts());
  }

  /** Also when a query failed: the terminal gets its cursor back before the error is printed. */
  #stopProgress(): void {
    this.#progress?.stop();
    this.#progress = undefined;
  }

  async #compareTokens(platform: Platform, lines: (BindingLine & { line: number })[]): Promise<void> {
    const tokens = [...new Set(lines.map((line) => line.token))];
    const answers = await this.#client.accountsOfTokens(platform, tokens);
    for (const { token, accounts } of answers) {
      const expected = lines.filter((line) => line.token === token);
      const actual = accounts.map(ref);
      for (const line of expected) {
        const want = ref(line);
        const holder = actual.find((entry) => entry.accountType === want.accountType);
        if (holder?.account === want.account) continue;
        this.drift.push({ kind: holder ? 'bound-to-other' : 'missing', line: line.line, platform, token, expected: want, actual: holder ?? null });
      }
      const expectedTypes = new Set(expected.map((line) => ref(line).accountType));
      for (const extra of actual.filter((entry) => !expectedTypes.has(entry.accountType))) {
        this.drift.push({ kind: 'unexpected', line: expected[0]!.line, platform, token, expected: null, actual: extra });
      }
    }
  }

  async #checkErased(platform: Platform, lines: (AccountLine & { line: number })[]): Promise<void> {
    const answers = await this.#client.tokensOfAccounts(platform, lines.map(ref));
    answers.forEach((answer, index) => {
      for (const token of answer.tokens) {
        this.drift.push({ kind: 'still-bound', line: lines[index]!.line, platform, token, expected: null, actual: ref(answer) });
      }
    });
  }
}
