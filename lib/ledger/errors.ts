/** Named errors of the intent ledger. Messages name the problem, never an account or a token. */

/** DynamoDB could not durably record or read intent (throttled, 5xx, unreachable after the SDK's retries). Callers answer 503. */
export class LedgerUnavailableError extends Error {
  override name = 'LedgerUnavailableError';
}
