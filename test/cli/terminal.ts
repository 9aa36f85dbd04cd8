/**
 * What a terminal shows after receiving some output: enough of a VT100 to replay what the CLI
 * (cli-progress, Node's readline helpers) writes. The screen is unbounded downwards (nothing
 * scrolls off), so every line ever written stays visible. An escape sequence it does not know
 * fails the test rather than being skipped, so a change of output cannot pass unseen.
 */
export function renderTerminal(output: string): string[] {
  const screen: string[][] = [[]];
  let row = 0;
  let column = 0;
  let saved = { row: 0, column: 0 };
  const line = (): string[] => (screen[row] ??= []);
  const moveTo = (nextRow: number, nextColumn: number): void => {
    row = Math.max(0, nextRow);
    column = Math.max(0, nextColumn);
    while (screen.length <= row) screen.push([]);
  };

  for (let index = 0; index < output.length; index += 1) {
    const char = output[index]!;
    if (char === '\r') column = 0;
    else if (char === '\n') moveTo(row + 1, column);
    else if (char === '\x1b') {
      const next = output[index + 1];
      if (next === '7' || next === '8') {
        if (next === '7') saved = { row, column };
        else moveTo(saved.row, saved.column);
        index += 1;
        continue;
      }
      const match = /^\[(\??)([\d;]*)([A-Za-z])/.exec(output.slice(index + 1, index + 20));
      if (!match) throw new Error(`unknown escape sequence at ${index}: ${JSON.stringify(output.slice(index, index + 10))}`);
      index += match[0].length;
      const [, privateMode, params = '', final] = match;
      const n = Number(params.split(';')[0] || 0);
      if (privateMode) continue; // cursor visibility, line wrapping: nothing on screen
      if (final === 'G') column = Math.max(0, n - 1);
      else if (final === 'A') moveTo(row - (n || 1), column);
      else if (final === 'B') moveTo(row + (n || 1), column);
      else if (final === 'C') column += n || 1;
      else if (final === 'D') column = Math.max(0, column - (n || 1));
      else if (final === 'K') {
        const cells = line();
        if (n === 0) cells.length = Math.min(cells.length, column);
        else if (n === 1) cells.fill(' ', 0, column + 1);
        else cells.length = 0;
      } else if (final === 'J' && n === 0) {
        line().length = Math.min(line().length, column);
        screen.length = row + 1;
      } else if (final !== 'm') throw new Error(`unknown escape sequence ESC[${privateMode}${params}${final}`);
    } else {
      const cells = line();
      while (cells.length < column) cells.push(' ');
      cells[column] = char;
      column += 1;
    }
  }
  return screen.map((cells) => cells.join('').trimEnd());
}
