/** Plain aligned text tables and JSON, written to stdout; progress and errors go to stderr. */

export type Row = Record<string, string | number>;

/** Columns padded to their widest cell; no trailing spaces. */
export function formatTable(columns: readonly string[], rows: readonly Row[]): string {
  const cells = [columns.map((column) => column.toUpperCase()), ...rows.map((row) => columns.map((column) => String(row[column] ?? '')))];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index]?.length ?? 0)));
  return cells
    .map((line) => line.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd())
    .join('\n');
}

export function printTable(columns: readonly string[], rows: readonly Row[]): void {
  process.stdout.write(`${formatTable(columns, rows)}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
