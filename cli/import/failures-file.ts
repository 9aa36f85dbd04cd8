/**
 * Every line that was not applied, as JSONL that `import` reads again: the item's own fields plus
 * `line` (in the input), `code` and `reason` (which `import` ignores). Written as failures happen,
 * honouring the stream's back-pressure, so a file full of bad lines does not fill memory.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { WriteStream } from 'node:fs';

export interface FailedLine {
  line: number;
  code: string;
  reason: string;
  retryable?: boolean;
  /** The line's fields (re-runnable once fixed), or `raw` for a line that did not parse. */
  item: Record<string, unknown>;
}

export class FailuresFile {
  readonly path: string;
  readonly #stream: WriteStream;
  #count = 0;

  private constructor(path: string, stream: WriteStream) {
    this.path = path;
    this.#stream = stream;
  }

  /** Truncates `path`: a failures file always describes the latest run. */
  static async open(path: string): Promise<FailuresFile> {
    const stream = createWriteStream(path, { encoding: 'utf8' });
    await once(stream, 'open');
    return new FailuresFile(path, stream);
  }

  get count(): number {
    return this.#count;
  }

  async write({ item, line, code, reason, retryable }: FailedLine): Promise<void> {
    this.#count += 1;
    const record = { ...item, line, code, reason, ...(retryable === undefined ? {} : { retryable }) };
    if (!this.#stream.write(`${JSON.stringify(record)}\n`)) await once(this.#stream, 'drain');
  }

  /** Closes the file; removes it when nothing failed, so its presence means "something to re-run". */
  async close(): Promise<void> {
    this.#stream.end();
    await once(this.#stream, 'finish');
    if (this.#count === 0) await rm(this.path, { force: true });
  }
}
