/**
 * The import's progress on stderr (stdout stays for the summary): a live bar on a terminal,
 * a plain line every few seconds when stderr is a file or a pipe (CI logs), nothing with --quiet.
 * Progress is measured in bytes of the file, known up front, so percentage and ETA need no
 * first pass to count lines.
 */
import { SingleBar } from 'cli-progress';

export interface ImportCounts {
  lines: number;
  succeeded: number;
  failed: number;
}

/** A log line every 5 s is enough to see a long import move without flooding a CI log. */
const PLAIN_LINE_INTERVAL_MS = 5_000;

export class ImportProgress {
  readonly #bar: SingleBar | undefined;
  readonly #startedAt = Date.now();

  constructor(totalBytes: number, options: { quiet: boolean; succeededLabel: string }) {
    if (options.quiet) return;
    const counts = `{succeeded} ${options.succeededLabel}, {failed} failed | {rate} lines/s | ETA {eta_formatted}`;
    const tty = process.stderr.isTTY === true;
    this.#bar = new SingleBar({
      format: tty ? `import [{bar}] {percentage}% | ${counts}` : `import {percentage}% | {lines} lines | ${counts}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: PLAIN_LINE_INTERVAL_MS,
      hideCursor: tty,
      etaBuffer: 50,
    });
    this.#bar.start(Math.max(totalBytes, 1), 0, { lines: 0, succeeded: 0, failed: 0, rate: 0 });
  }

  update(bytesRead: number, counts: ImportCounts): void {
    const seconds = (Date.now() - this.#startedAt) / 1000;
    this.#bar?.update(bytesRead, { ...counts, rate: seconds > 0 ? Math.round(counts.lines / seconds) : 0 });
  }

  stop(): void {
    this.#bar?.stop();
  }
}
