import { describe, expect, it } from 'vitest';
import { formatEta } from '../../cli/import/progress.js';

describe('formatEta', () => {
  it.each([
    // elapsed ms, done bytes, total bytes, shown
    [0, 0, 1000, '--'], // nothing measured yet (cli-progress: "LLs")
    [5000, 0, 1000, '--'], // no byte read yet (cli-progress: "NFs")
    [0, 500, 1000, '--'],
    [1000, 1000, 1000, '0s'],
    [1000, 2000, 1000, '0s'], // read ahead of the total
    [1000, 500, 1000, '1s'],
    [1000, 1, 1000, '16m39s'],
    [1000, 1, 10_000, '2h46m'],
    [1000, Number.MIN_VALUE, 1000, '--'], // so slow the estimate is not a number
  ])('after %i ms, %d of %d bytes: %s', (elapsedMs, done, total, shown) => {
    expect(formatEta(elapsedMs, done, total)).toBe(shown);
  });
});
