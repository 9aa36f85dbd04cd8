/**
 * Import FIRST in a test file that must stay quiet: Powertools reads POWERTOOLS_LOG_LEVEL and
 * POWERTOOLS_METRICS_DISABLED when the logger and the metrics object are created, i.e. when the
 * handlers are imported, before any beforeAll runs. The metrics middleware also warns "No
 * application metrics to publish" on every invocation, disabled or not, straight to
 * process.stdout: that one line is dropped, everything else is written as usual.
 */
/** ADVERSARIAL_LOG_LEVEL=WARN (say) shows the product's own log lines while investigating. */
export const QUIET_ENV = { POWERTOOLS_LOG_LEVEL: process.env.ADVERSARIAL_LOG_LEVEL ?? 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

Object.assign(process.env, QUIET_ENV);

const NOISE = 'No application metrics to publish';
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith(NOISE)) {
      (rest.find((arg) => typeof arg === 'function') as (() => void) | undefined)?.();
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof stream.write;
}
