/**
 * docs/local.md's walkthrough as data, and the comparison of a documented output with a real
 * one. The markdown marks what is run: `<!-- walkthrough: run -->` before a ```sh block (run in
 * order, in one shell), `<!-- walkthrough: output -->` before the block showing what the run
 * block just above it prints, `<!-- walkthrough: banner -->` before the ready block.
 *
 * Documented outputs are compared by shape: JSON values structurally (`"..."` stands for any
 * value, an ISO timestamp for any timestamp), other lines as text (`...` inside a line for any
 * text, a line of only `...` for any lines, whitespace runs equal).
 */

export interface RunBlock {
  kind: 'run';
  /** 1-based line of the block's opening fence in the markdown. */
  line: number;
  script: string;
  needsAws: boolean;
  /** The documented output, when an output block follows. */
  expected?: string;
}

export interface Walkthrough {
  banner: string;
  steps: RunBlock[];
}

const MARKER = /^<!-- walkthrough: (run|run, needs aws|output|banner) -->$/;

/** Reads the marked blocks; a marker not followed by a fenced block, or a stray output, throws. */
export function parseWalkthrough(markdown: string): Walkthrough {
  const lines = markdown.split('\n');
  const steps: RunBlock[] = [];
  let banner: string | undefined;
  for (let index = 0; index < lines.length; index++) {
    const marker = MARKER.exec(lines[index] ?? '');
    if (!marker) continue;
    const fence = index + 1;
    if (!/^```\w*$/.test(lines[fence] ?? '')) throw new Error(`docs/local.md:${index + 1}: a walkthrough marker must be followed by a fenced block`);
    const close = lines.findIndex((line, at) => at > fence && line === '```');
    if (close < 0) throw new Error(`docs/local.md:${fence + 1}: unclosed block`);
    const body = lines.slice(fence + 1, close).join('\n');
    index = close;
    const kind = marker[1];
    if (kind === 'banner') banner = body;
    else if (kind === 'output') {
      const last = steps.at(-1);
      if (!last || last.expected !== undefined) throw new Error(`docs/local.md:${fence + 1}: an output block must follow a run block`);
      last.expected = body;
    } else steps.push({ kind: 'run', line: fence + 1, script: body, needsAws: kind === 'run, needs aws' });
  }
  if (banner === undefined) throw new Error('docs/local.md: no <!-- walkthrough: banner --> block');
  return { banner, steps };
}

type Token = { kind: 'json'; value: unknown; text: string } | { kind: 'text'; text: string };

/** The end (exclusive) of the JSON object or array starting at `start`, or -1. */
function endOfComposite(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let at = start; at < text.length; at++) {
    const char = text[at];
    if (inString) {
      if (char === '\\') at++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') {
      depth--;
      if (depth === 0) return at + 1;
    }
  }
  return -1;
}

const SCALAR = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|"(?:[^"\\\n]|\\.)*"|true|false|null)(?=\s|$)/;

/** JSON values (possibly spread over lines) and text lines, in order. */
export function tokenize(output: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < output.length) {
    const rest = output.slice(at);
    const skipped = rest.length - rest.trimStart().length;
    at += skipped;
    if (at >= output.length) break;
    const char = output[at];
    let end = -1;
    if (char === '{' || char === '[') end = endOfComposite(output, at);
    else {
      const scalar = SCALAR.exec(output.slice(at));
      if (scalar) end = at + scalar[0].length;
    }
    if (end > 0) {
      const text = output.slice(at, end);
      try {
        tokens.push({ kind: 'json', value: JSON.parse(text) as unknown, text });
        at = end;
        continue;
      } catch {
        // not JSON after all (a truncated object, say): the rest of the line is text
      }
    }
    const newline = output.indexOf('\n', at);
    const lineEnd = newline < 0 ? output.length : newline;
    tokens.push({ kind: 'text', text: output.slice(at, lineEnd).trim() });
    at = lineEnd;
  }
  return tokens;
}

const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/;
const isIsoTime = (value: unknown) => typeof value === 'string' && new RegExp(`^${ISO_TIME.source}$`).test(value);
const WILDCARD = '...';

/** Where `actual` differs from `expected` ('' when it matches). */
function jsonDifference(expected: unknown, actual: unknown, path: string): string {
  if (expected === WILDCARD) return '';
  if (isIsoTime(expected)) return isIsoTime(actual) ? '' : `${path}: expected a timestamp, got ${JSON.stringify(actual)}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
    const open = expected.at(-1) === WILDCARD;
    const items = open ? expected.slice(0, -1) : expected;
    if (open ? actual.length < items.length : actual.length !== items.length) return `${path}: expected ${items.length}${open ? ' or more' : ''} items, got ${actual.length}`;
    for (const [index, item] of items.entries()) {
      const difference = jsonDifference(item, actual[index], `${path}[${index}]`);
      if (difference) return difference;
    }
    return '';
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    const want = expected as Record<string, unknown>;
    const got = actual as Record<string, unknown>;
    const open = WILDCARD in want;
    for (const key of Object.keys(want)) {
      if (key === WILDCARD) continue;
      if (!(key in got)) return `${path}.${key}: missing`;
      const difference = jsonDifference(want[key], got[key], `${path}.${key}`);
      if (difference) return difference;
    }
    const extra = Object.keys(got).filter((key) => !(key in want));
    return !open && extra.length > 0 ? `${path}: unexpected ${extra.join(', ')}` : '';
  }
  return Object.is(expected, actual) ? '' : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A documented line against a real one: `...` is any text, a timestamp any timestamp, spaces collapse. */
function textMatches(expected: string, actual: string): boolean {
  const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();
  const piece = (text: string) => text.split(ISO_TIME).map(escapeRegExp).join(ISO_TIME.source);
  return new RegExp(`^${collapse(expected).split(WILDCARD).map(piece).join('.*')}$`).test(collapse(actual));
}

function tokenDifference(expected: Token, actual: Token): string {
  if (expected.kind === 'text') {
    if (actual.kind === 'text' || expected.text.includes(WILDCARD)) return textMatches(expected.text, actual.text) ? '' : `expected line ${JSON.stringify(expected.text)}, got ${JSON.stringify(actual.text)}`;
    return `expected line ${JSON.stringify(expected.text)}, got JSON ${actual.text}`;
  }
  if (actual.kind !== 'json') return `expected JSON ${expected.text}, got line ${JSON.stringify(actual.text)}`;
  const difference = jsonDifference(expected.value, actual.value, '$');
  return difference ? `${difference}\n  in ${actual.text}` : '';
}

/** '' when `actual` has the documented shape, else the first difference. */
export function outputDifference(expected: string, actual: string): string {
  const want = tokenize(expected);
  const got = tokenize(actual);
  const match = (w: number, g: number): string => {
    if (w === want.length) return g === got.length ? '' : `unexpected output: ${got.slice(g).map((token) => token.text).join('\n')}`;
    const token = want[w]!;
    if (token.kind === 'text' && token.text === WILDCARD) {
      // Any number of tokens, the fewest that let the rest match.
      for (let skip = g; skip <= got.length; skip++) if (match(w + 1, skip) === '') return '';
      return `nothing after "..." matches from: ${got[g]?.text ?? '(end of output)'}`;
    }
    const next = got[g];
    if (!next) return `missing: ${token.text}`;
    return tokenDifference(token, next) || match(w + 1, g + 1);
  };
  return match(0, 0);
}
