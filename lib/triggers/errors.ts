/** The event matched none of the shapes this function is wired to receive. */
export class UnrecognizedEventError extends Error {
  override name = 'UnrecognizedEventError';

  constructor(expected: readonly string[]) {
    super(`Unrecognized event: expected ${expected.join(', or ')}`);
  }
}
