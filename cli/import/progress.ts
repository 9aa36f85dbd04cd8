/**
 * A long command's progress on stderr (stdout stays for the results): a live bar on a terminal,
 * a plain line every few seconds when stderr is a file or a pipe (CI logs), nothing with --quiet.
 * Progress is measured in bytes of the file, known up front, so percentage and ETA need no
 * first pass to count lines.
 *
 * On a terminal the bar lives in a cli-progress MultiBar: its log() prints messages above the
 * bar, on their own lines, at the next redraw. A SingleBar saves the cursor when it starts and
 * restores it when it stops, so anything printed meanwhile was overwritten by the summary.
 */
import { MultiBar, SingleBar } from 'cli-progress';

/** A log line every 5 s is enough to see a long run move without flooding a CI log. */
const PLAIN_LINE_INTERVAL_MS = 5_000;

export interface ProgressOptions<Counts extends Record<string, number>> {
  /** The line's first word: the command. */
  label: string;
  quiet: boolean;
  /** The counts shown, in this order, each as "<n> <label>", e.g. { succeeded: 'bound', invalid: 'invalid' }. */
  counters: Readonly<Record<keyof Counts & string, string>>;
}

/**
 * The bar's width in characters: what the terminal leaves next to the text, within these bounds.
 * The text is given room for at least `text` characters, so the bar keeps its width while the
 * counts and the rate gain digits, and it never widens again once narrowed: it does not jitter.
 */
const BAR_WIDTH = { min: 10, max: 40, text: 64 };

const INTERRUPTS = ['SIGINT', 'SIGTERM'] as const;

export class Progress<Counts extends Record<string, number>> {
  /** On a terminal only. */
  readonly #multiBar: MultiBar | undefined;
  readonly #bar: SingleBar | undefined;
  readonly #label: string;
  readonly #counters: [keyof Counts & string, string][];
  readonly #totalBytes: number;
  readonly #startedAt = Date.now();
  #stopped = false;
  #barWidth: number = BAR_WIDTH.max;
  #showRate = true;
  #state: { bytes: number; lines: number; counts: Readonly<Counts> | undefined } = { bytes: 0, lines: 0, counts: undefined };

  constructor(totalBytes: number, options: ProgressOptions<Counts>) {
    this.#label = options.label;
    this.#counters = Object.entries(options.counters) as [keyof Counts & string, string][];
    this.#totalBytes = Math.max(totalBytes, 1);
    if (options.quiet) return;
    if (process.stderr.isTTY === true) {
      this.#multiBar = new MultiBar({
        format: (_options, params) => this.#barLine(params.progress, params.maxWidth),
        stream: process.stderr,
        hideCursor: true,
        // A bar line cleared to print messages above it is drawn again even when its text did not change.
        forceRedraw: true,
      });
      this.#bar = this.#multiBar.create(this.#totalBytes, 0);
      for (const signal of INTERRUPTS) process.once(signal, this.#interrupted);
    } else {
      this.#bar = new SingleBar({
        format: (_options, params) => `${this.#label} ${percent(params.progress)}% | ${this.#state.lines} lines | ${this.#rest()}`,
        stream: process.stderr,
        noTTYOutput: true,
        notTTYSchedule: PLAIN_LINE_INTERVAL_MS,
      });
      this.#bar.start(this.#totalBytes, 0);
    }
  }

  update(bytesRead: number, lines: number, counts: Readonly<Counts>): void {
    this.#state = { bytes: Math.min(bytesRead, this.#totalBytes), lines, counts: { ...counts } };
    this.#bar?.update(this.#state.bytes);
  }

  /** One line of text (no newline): above the bar on a terminal, as it is otherwise. */
  log(message: string): void {
    if (this.#multiBar) this.#multiBar.log(`${message}\n`);
    else process.stderr.write(`${message}\n`);
  }

  /** The whole file done: the bar at 100 % with these counts, then stop(). */
  finish(lines: number, counts: Readonly<Counts>): void {
    this.update(this.#totalBytes, lines, counts);
    this.stop();
  }

  /** Draws the last state (and any message not yet shown) and leaves the cursor on the next line; once. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const signal of INTERRUPTS) process.off(signal, this.#interrupted);
    // MultiBar.stop() draws the bars but drops the messages still waiting for a redraw.
    this.#multiBar?.update();
    if (this.#multiBar) this.#multiBar.stop();
    else this.#bar?.stop();
  }

  /**
   * Ctrl-C (or a kill) while the bar hides the cursor and turns line wrapping off: give the
   * terminal both back, then die of the same signal as without the bar (cli-progress's own
   * gracefulExit would swallow it and let the command run on).
   */
  readonly #interrupted = (signal: NodeJS.Signals): void => {
    this.stop();
    process.kill(process.pid, signal);
  };

  #barLine(progress: number, maxWidth: number): string {
    const head = `${this.#label} [`;
    let tail = `] ${percent(progress)}% | ${this.#rest(this.#showRate)}`;
    // On a narrow terminal the rate goes first (for good, not to flicker): the counts and the time left matter more.
    if (this.#showRate && head.length + BAR_WIDTH.min + tail.length + 1 > maxWidth) {
      this.#showRate = false;
      tail = `] ${percent(progress)}% | ${this.#rest(false)}`;
    }
    // One column spare: a line ending in the last column makes some terminals wrap the next write.
    const room = maxWidth - head.length - Math.max(tail.length, BAR_WIDTH.text) - 1;
    const width = (this.#barWidth = Math.max(BAR_WIDTH.min, Math.min(this.#barWidth, room)));
    const done = Math.round(progress * width);
    return `${head}${'='.repeat(done)}${'-'.repeat(width - done)}${tail}`;
  }

  #rest(withRate = true): string {
    const { bytes, lines, counts } = this.#state;
    const elapsedMs = Date.now() - this.#startedAt;
    const rate = elapsedMs > 0 ? Math.round((lines * 1000) / elapsedMs) : 0;
    const shown = this.#counters.map(([key, label]) => `${counts?.[key] ?? 0} ${label}`).join(', ');
    return `${shown}${withRate ? ` | ${rate} lines/s` : ''} | ETA ${formatEta(elapsedMs, bytes, this.#totalBytes)}`;
  }
}

const percent = (progress: number): number => Math.floor(progress * 100);

/**
 * Time left at the average pace so far, as "42s", "3m05s" or "2h10m"; "--" until there is a pace
 * to go by. cli-progress's own ETA turns a pause in reading (bytes not moving between two
 * updates) into NaN or Infinity, which it prints as "LLs" or "NFs".
 */
export function formatEta(elapsedMs: number, doneBytes: number, totalBytes: number): string {
  if (doneBytes >= totalBytes) return '0s';
  if (!(elapsedMs > 0) || !(doneBytes > 0)) return '--';
  const seconds = Math.ceil(((totalBytes - doneBytes) * elapsedMs) / doneBytes / 1000);
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 60) return `${seconds}s`;
  const pad = (value: number): string => String(value).padStart(2, '0');
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${pad(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h${pad(Math.floor((seconds % 3600) / 60))}m`;
}
