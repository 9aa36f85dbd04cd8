/**
 * Exit codes are the CLI's contract with scripts: 0 everything applied, 1 some items failed
 * (or drifted), 2 the command could not run as asked (usage, configuration, credentials),
 * 3 what was asked about does not exist (`erasure-status`: no receipt).
 */
export const EXIT = {
  ok: 0,
  itemsFailed: 1,
  usage: 2,
  notFound: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A bad argument, file or configuration: nothing was sent; the message says what to fix. */
export class UsageError extends Error {
  override name = 'UsageError';
}
