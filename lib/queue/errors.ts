/** Named errors of the work queue. Messages name the queue problem, never the queued content. */

/** The queue could not durably take the work (unreachable, refused entries after retries). Callers answer 503. */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
