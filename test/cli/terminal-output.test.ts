/**
 * What `import` and `verify` look like on a terminal (a pseudo-terminal through `script`) and in
 * a pipe: messages above the bar on lines of their own, the summary below the last bar, counts
 * that agree with the summary, no NaN/Infinity in the ETA.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFile, HAS_SCRIPT, runCliProcess, runCliInTerminal, useCliWorld } from './harness.js';
import type { CliWorld } from './harness.js';
import { renderTerminal } from './terminal.js';

let world: CliWorld;
useCliWorld((started) => (world = started));

const COLUMNS = 100;
const GARBAGE = /NaN|Infinity|NFs|LLs|NULL|INF/;
/** A bar frame as cli-progress draws it, and the ETA forms formatEta gives. */
const IMPORT_FRAME = /import \[[=-]+\] (\d+)% \| (\d+) bound, (\d+) invalid, (\d+) failed(?: \| \d+ lines\/s)? \| ETA ([\w-]*)/g;
const VERIFY_FRAME = /verify \[[=-]+\] (\d+)% \| (\d+) checked, (\d+) drift, (\d+) invalid(?: \| \d+ lines\/s)? \| ETA ([\w-]*)/g;
const ETA = /^(--|\d+s|\d+m\d\ds|\d+h\d\dm)$/;

/** The docs' own example (docs/cli.md, `import`): its input file and the output it promises. */
async function docsExample(): Promise<{ input: string; output: string[] }> {
  const docs = await readFile(resolve(import.meta.dirname, '../../docs/cli.md'), 'utf8');
  const match = /## `import`[\s\S]*?cat > devices\.csv <<'EOF'\n([\s\S]*?\n)EOF\n[\s\S]*?```\n\n```\n([\s\S]*?)\n```/.exec(docs);
  if (!match?.[1] || !match[2]) throw new Error('docs/cli.md no longer has the devices.csv example and its output');
  return { input: match[1], output: match[2].split('\n') };
}

/** Timings differ from run to run. */
const normalized = (lines: readonly string[]): string[] =>
  lines.map((line) => line.replace(/\d+ lines\/s/, 'N lines/s').replace(/ in [\d.]+ s$/, ' in N s'));

/** Positions of every match of `pattern` in `text`. */
const framesOf = (text: string, pattern: RegExp): RegExpExecArray[] => [...text.matchAll(pattern)];

describe.skipIf(!HAS_SCRIPT)('import on a terminal', () => {
  it("shows the docs' example as the docs show it: messages, then the bar, then the summary", async () => {
    const { input, output } = await docsExample();
    await world.file('devices.csv', input);
    const dryRun = await runCliInTerminal(['import', 'devices.csv', '--dry-run'], { env: world.tpnsEnv, cwd: world.dir, columns: COLUMNS });
    expect(dryRun.code).toBe(1);
    const run = await runCliInTerminal(['import', 'devices.csv'], { env: world.tpnsEnv, cwd: world.dir, columns: COLUMNS });
    expect(run.code).toBe(1);

    expect(normalized(renderTerminal(run.output)).filter((line) => line !== '')).toEqual(normalized(output));
    for (const { output: bytes, mode, succeeded } of [
      { output: dryRun.output, mode: 'dry-run', succeeded: 'valid' },
      { output: run.output, mode: 'direct', succeeded: 'bound' },
    ]) {
      expect(bytes).not.toMatch(GARBAGE);
      // Each message starts a line of its own: after a newline or after the bar line was cleared.
      for (const message of framesOf(bytes, /line \d+: INVALID_LINE/g)) {
        const before = bytes.slice(0, message.index);
        expect(before.endsWith('\n') || before.endsWith('\x1b[2K'), JSON.stringify(before.slice(-40))).toBe(true);
      }
      const summaryAt = bytes.indexOf(`import devices.csv (${mode}) in `);
      const frames = framesOf(bytes, new RegExp(IMPORT_FRAME.source.replace('bound', succeeded), 'g'));
      expect(frames.length).toBeGreaterThan(0);
      const last = frames.at(-1)!;
      expect(last.index).toBeLessThan(summaryAt);
      expect(bytes.slice(summaryAt)).not.toContain('\x1b');
      expect(last.slice(1, 5)).toEqual(['100', '3', '2', '0']);
      expect(bytes.slice(summaryAt)).toMatch(new RegExp(`${succeeded} +3\\r?\\n +invalid +2\\r?\\n +failed +0\\r?\\n`));
    }
  });

  it.each([100, 80])('keeps every message above a single bar while the bar moves, and its counts agree with the summary (%i columns)', { timeout: 60_000 }, async (columns) => {
    // Every 250th line invalid, every 400th token refused by TPNS; the first calls slowed down so
    // the bar is drawn, and redrawn, before and between the messages.
    const lines = 3000;
    const file = await generateFile(world.dir, 'moving.csv', 'token,account,platform', lines, (index) =>
      index % 250 === 7 ? `mv-${index},x,android` : `mv-${index}${index % 400 === 3 ? '-refused' : ''},user-${index},${index % 2 ? 'ios' : 'android'}`,
    );
    world.emulator.setInvalidTokens(Array.from({ length: lines }, (_, index) => `mv-${index}-refused`));
    world.emulator.injectFault({ kind: 'latency', count: 4, latencyMs: 400, path: 'batchoperate' });
    const run = await runCliInTerminal(['import', file], { env: world.tpnsEnv, columns });
    expect(run.code).toBe(1);
    const invalid = Math.ceil((lines - 7) / 250);
    const refused = Math.ceil((lines - 3) / 400);

    expect(run.output).not.toMatch(GARBAGE);
    const frames = framesOf(run.output, IMPORT_FRAME);
    expect(frames.length).toBeGreaterThan(2);
    expect(frames.some((frame) => Number(frame[1]) < 100)).toBe(true);
    for (const frame of frames) expect(frame[5]).toMatch(ETA);

    const screen = renderTerminal(run.output).filter((line) => line !== '');
    const bars = screen.flatMap((line, index) => (line.startsWith('import [') ? [index] : []));
    expect(bars).toHaveLength(1); // every redraw in place, none left behind between messages
    const [bar] = bars as [number];
    const messages = screen.slice(0, bar);
    expect(messages).toHaveLength(invalid + refused); // 20 at most are shown; these are fewer
    for (const message of messages) expect(message).toMatch(/^line \d+: (INVALID_LINE: account: must be at least 2 characters|1008006: )/);
    expect(screen[bar + 1]).toBe(`import ${file} (direct) in ${/in ([\d.]+) s$/.exec(screen[bar + 1]!)?.[1]} s`);
    expect(screen.slice(bar + 2, bar + 6)).toEqual([
      `  lines            ${lines}`,
      `  bound            ${lines - invalid - refused}`,
      `  invalid          ${invalid}`,
      `  failed           ${refused}`,
    ]);
    // A narrow terminal loses the rate, never the counts or the time left.
    expect(screen[bar]).toMatch(new RegExp(`\\] 100% \\| ${lines - invalid - refused} bound, ${invalid} invalid, ${refused} failed( \\| \\d+ lines/s)? \\| ETA 0s$`));
    expect(screen[bar]!.length).toBeLessThan(columns);
  });
});

describe.skipIf(!HAS_SCRIPT)('import on a terminal, interrupted', () => {
  it('gives the terminal its cursor and line wrapping back on Ctrl-C, and still dies of SIGINT', { timeout: 60_000 }, async () => {
    const file = await generateFile(world.dir, 'slow.csv', 'token,account,platform', 2000, (index) => `sl-${index},user-${index},android`);
    world.emulator.injectFault({ kind: 'latency', latencyMs: 500, path: 'batchoperate' });
    const run = await runCliInTerminal(['import', file], {
      env: world.tpnsEnv,
      columns: COLUMNS,
      interruptWhen: (output) => framesOf(output, IMPORT_FRAME).length > 0,
    });
    expect(run.code).toBe(130); // 128 + SIGINT, as without a bar
    expect(run.output).toContain('^C'); // the terminal's echo: the interrupt came after the bar was drawn
    // The cursor shown again, and line wrapping on again, after they were last turned off.
    expect(run.output.lastIndexOf('\x1b[?25h')).toBeGreaterThan(run.output.lastIndexOf('\x1b[?25l'));
    expect(run.output.lastIndexOf('\x1b[?7h')).toBeGreaterThan(run.output.lastIndexOf('\x1b[?7l'));
    expect(run.output).not.toContain('import slow.csv'); // no summary: the import did not finish
    expect(renderTerminal(run.output).filter((line) => line !== '').at(-1)).toMatch(/^import \[[=-]+\] \d+% \| /);
  });
});

describe.skipIf(!HAS_SCRIPT)('verify on a terminal', () => {
  it('shows a moving bar while it queries, then the report below it', { timeout: 60_000 }, async () => {
    const lines = 6000;
    const file = await generateFile(world.dir, 'expected.csv', 'token,account,platform', lines, (index) => `vf-${index},user-${index},android`);
    const run = await runCliInTerminal(['verify', file], { env: world.tpnsEnv, columns: COLUMNS });
    expect(run.code).toBe(1); // nothing was bound: every line is missing

    expect(run.output).not.toMatch(GARBAGE);
    const frames = framesOf(run.output, VERIFY_FRAME);
    expect(frames.some((frame) => Number(frame[1]) < 100)).toBe(true);
    for (const frame of frames) expect(frame[5]).toMatch(ETA);
    const summaryAt = run.output.indexOf(`checked ${lines} lines: drift: ${lines} missing`);
    expect(summaryAt).toBeGreaterThan(frames.at(-1)!.index);
    expect(frames.at(-1)!.slice(1, 5)).toEqual(['100', String(lines), String(lines), '0']);

    const screen = renderTerminal(run.output).filter((line) => line !== '');
    expect(screen.filter((line) => line.startsWith('verify ['))).toHaveLength(1);
    expect(screen[0]).toMatch(/^verify \[=+\] 100% \| /);
    expect(screen[1]).toMatch(/^KIND +LINE +PLATFORM/);
    expect(screen.at(-1)).toBe(`checked ${lines} lines: drift: ${lines} missing`);
  });
});

describe('progress in a pipe (CI logs)', () => {
  it('import: plain lines, each message on its own line, no escape sequences', async () => {
    const { input } = await docsExample();
    const file = await world.file('devices.csv', input);
    const run = await runCliProcess(['import', file], world.tpnsEnv);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('\x1b');
    expect(run.stderr.split('\n')).toEqual([
      'import 0% | 0 lines | 0 bound, 0 invalid, 0 failed | 0 lines/s | ETA --',
      'line 5: INVALID_LINE: account: must be at least 2 characters',
      'line 6: INVALID_LINE: platform: must be "android" or "ios"',
      expect.stringMatching(/^import 100% \| 5 lines \| 3 bound, 2 invalid, 0 failed \| \d+ lines\/s \| ETA 0s$/),
      '',
      '',
    ]);
  });

  it('verify: a first and a last plain line; none with --quiet', async () => {
    const file = await world.file('expected.csv', 'token,account,platform\np-1,user-1,android\np-2,x,ios\n');
    const run = await runCliProcess(['verify', file], world.tpnsEnv);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')).toEqual([
      'verify 0% | 0 lines | 0 checked, 0 drift, 0 invalid | 0 lines/s | ETA --',
      expect.stringMatching(/^verify 100% \| 2 lines \| 1 checked, 1 drift, 1 invalid \| \d+ lines\/s \| ETA 0s$/),
      '',
      'line 3: invalid: account: must be at least 2 characters',
      '',
    ]);
    const quiet = await runCliProcess(['verify', file, '--quiet'], world.tpnsEnv);
    expect(quiet.stderr).toBe('line 3: invalid: account: must be at least 2 characters\n');
  });
});
