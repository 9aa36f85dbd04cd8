/**
 * A status line for queued work, so an operator can watch the worker drain a bulk import:
 * on a terminal one line redrawn in place (with a bar), otherwise a plain line every few
 * seconds. Counts are SQS messages (a message names up to 20 keys): waiting, in flight, delayed
 * (read-backs after VERIFY_DELAY_SECONDS and retries with backoff) and dead-lettered. Silent
 * while the queue is empty, except that new dead letters are always reported.
 *
 * Why hand-written: this service's own wiring and output, which no library knows (docs/architecture.md, "Why local/ is hand-written").
 */
export interface QueueSnapshot {
  /** Visible messages waiting for the worker. */
  queued: number;
  /** Received, not yet deleted (being applied, or waiting out the visibility timeout). */
  inFlight: number;
  delayed: number;
  deadLettered: number;
  /** Messages the worker finished (deleted) since the stack started. */
  done: number;
}

export interface ProgressView {
  /** Prints a line above the status line. */
  log(line: string): void;
  stop(): void;
}

interface Output {
  isTTY?: boolean;
  write(text: string): unknown;
}

const BAR_WIDTH = 24;
/** Sample often so a burst is seen from its start; a log file gets a line every few seconds. */
const SAMPLE_INTERVAL_MS = 500;
const PLAIN_LINE_INTERVAL_MS = 3_000;

function describe(snapshot: QueueSnapshot, doneInBurst: number, total: number, tty: boolean): string {
  const counts = `${doneInBurst}/${total} message(s) done, ${snapshot.queued} waiting, ${snapshot.inFlight} in flight, ${snapshot.delayed} delayed (read-backs, retries), ${snapshot.deadLettered} dead-lettered`;
  if (!tty) return `queue: ${counts}`;
  const filled = total === 0 ? BAR_WIDTH : Math.round((doneInBurst / total) * BAR_WIDTH);
  return `queue [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${counts}`;
}

export function startProgressView(read: () => Promise<QueueSnapshot>, output: Output = process.stdout): ProgressView {
  const tty = output.isTTY === true;
  let statusShown = false;
  /** `done` when the current burst began; undefined while the queue is idle. */
  let burstStart: number | undefined;
  let lastDeadLettered: number | undefined;
  let busy = false;
  let lastPlainLine = 0;

  const clearStatus = () => {
    if (tty && statusShown) output.write('\r\x1b[2K');
    statusShown = false;
  };
  const show = (line: string) => {
    if (tty) {
      clearStatus();
      output.write(line);
      statusShown = true;
    } else if (Date.now() - lastPlainLine >= PLAIN_LINE_INTERVAL_MS) {
      output.write(`${line}\n`);
      lastPlainLine = Date.now();
    }
  };

  async function tick(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const snapshot = await read();
      // Dead letters are always reported, even when a whole burst fell between two samples.
      if (lastDeadLettered !== undefined && snapshot.deadLettered > lastDeadLettered) {
        clearStatus();
        output.write(`dead-letter queue: ${snapshot.deadLettered - lastDeadLettered} new message(s), ${snapshot.deadLettered} in all (docs/operations.md: reading a dead letter)\n`);
      }
      lastDeadLettered = snapshot.deadLettered;
      const remaining = snapshot.queued + snapshot.inFlight + snapshot.delayed;
      if (remaining > 0) {
        burstStart ??= snapshot.done;
        const doneInBurst = snapshot.done - burstStart;
        show(describe(snapshot, doneInBurst, doneInBurst + remaining, tty));
      } else if (burstStart !== undefined) {
        const doneInBurst = snapshot.done - burstStart;
        clearStatus();
        output.write(`queue drained: ${doneInBurst} message(s) done, ${snapshot.deadLettered} in the dead-letter queue\n`);
        burstStart = undefined;
      }
    } catch {
      // The queue is being stopped or restarted; the next tick tries again.
    } finally {
      busy = false;
    }
  }

  const timer = setInterval(() => void tick(), SAMPLE_INTERVAL_MS);
  timer.unref();
  return {
    log(line) {
      const wasShown = statusShown;
      clearStatus();
      output.write(`${line}\n`);
      if (wasShown) void tick();
    },
    stop() {
      clearInterval(timer);
      clearStatus();
    },
  };
}
