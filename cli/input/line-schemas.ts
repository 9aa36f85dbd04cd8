/**
 * What one line of an input file must hold, built from the client's own item schemas so a line
 * that passes here is one TPNS accepts. Unknown keys are dropped, so a failures file (which adds
 * `line`, `code` and `reason`) can be imported again as it is.
 */
import * as z from 'zod/mini';
import { accountRefSchema, bindingSchema, platformSchema } from '../../lib/tpns/validate.js';
import type { InputRecord, RecordShape } from './records.js';

/** `token,account,platform[,accountType]`: one binding to apply (import) or to expect (verify). */
export const bindingLineSchema = z.object({ ...bindingSchema.shape, platform: platformSchema });
export type BindingLine = z.infer<typeof bindingLineSchema>;
export const BINDING_LINE_SHAPE: RecordShape = {
  required: ['token', 'account', 'platform'],
  optional: ['accountType'],
  integers: ['accountType'],
};

/** `account[,accountType]`: an account that must have no tokens left (verify --deleted). */
export const accountLineSchema = accountRefSchema;
export type AccountLine = z.infer<typeof accountLineSchema>;
export const ACCOUNT_LINE_SHAPE: RecordShape = { required: ['account'], optional: ['accountType'], integers: ['accountType'] };

/** A line that passed its schema, or why not (`item` is what it held, to write to a failures file). */
export type CheckedLine<T> = { line: number; ok: true; value: T } | { line: number; ok: false; reason: string; item: Record<string, unknown> };

export async function* checkedLines<T>(records: AsyncIterable<InputRecord>, schema: z.ZodMiniType<T>): AsyncGenerator<CheckedLine<T>> {
  for await (const record of records) {
    if (!record.ok) {
      yield { line: record.line, ok: false, reason: record.reason, item: { raw: record.raw } };
      continue;
    }
    const parsed = schema.safeParse(record.fields);
    yield parsed.success
      ? { line: record.line, ok: true, value: parsed.data }
      : { line: record.line, ok: false, reason: describeIssues(parsed.error.issues, record.fields), item: record.fields };
  }
}

/** Every problem of the line, each naming its field: `token: must not be empty; platform: is required`. */
function describeIssues(issues: readonly z.core.$ZodIssue[], fields: Record<string, unknown>): string {
  return issues
    .map((issue) => {
      const field = issue.path.map(String).join('.');
      return `${field}: ${fields[field] === undefined ? 'is required' : issue.message}`;
    })
    .join('; ');
}
