/**
 * Validation with zod/mini that answers the way the product spec asks: a list of
 * `{ path, message }` naming each bad field (`body.items.3.token`), never a stack of zod internals.
 */
import type * as z from 'zod/mini';

export interface Issue {
  path: string;
  message: string;
}

/** Input that failed its schema; nothing was done with it. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  readonly issues: Issue[];

  constructor(what: string, issues: Issue[]) {
    super(`Invalid ${what}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
    this.issues = issues;
  }
}

/** zod's default "Invalid input" says nothing; say what was missing or expected instead. */
const describeIssue: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== 'invalid_type') return undefined;
  return issue.input === undefined ? 'is required' : `must be ${article(issue.expected)} ${issue.expected}`;
};

const article = (noun: string): string => (/^[aeiou]/.test(noun) ? 'an' : 'a');

const joinPath = (parts: readonly PropertyKey[]): string => parts.map(String).filter(Boolean).join('.') || '(root)';

export function toIssues(error: z.core.$ZodError, prefix = ''): Issue[] {
  return error.issues.flatMap((issue) =>
    // A strict object's extra keys: one issue per key, named by its own path (`body.foo`).
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: joinPath([prefix, ...issue.path, key]), message: 'unknown key' }))
      : [{ path: joinPath([prefix, ...issue.path]), message: issue.message }],
  );
}

/** Parses `value` or throws InvalidInputError whose issue paths start with `prefix`. */
export function parseOrThrow<T>(schema: z.ZodMiniType<T>, value: unknown, what: string, prefix = ''): T {
  const parsed = schema.safeParse(value, { error: describeIssue });
  if (!parsed.success) throw new InvalidInputError(what, toIssues(parsed.error, prefix));
  return parsed.data;
}

/** The event matched none of the shapes this function is wired to receive. */
export class UnrecognizedEventError extends Error {
  override name = 'UnrecognizedEventError';

  constructor(expected: readonly string[]) {
    super(`Unrecognized event: expected ${expected.join(', or ')}`);
  }
}
