import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextVersion } from '../../../lib/ledger/records.js';

describe('nextVersion', () => {
  it('is the clock in microseconds', () => {
    const before = Date.now() * 1000;
    const v = nextVersion();
    expect(v).toBeGreaterThanOrEqual(before);
    expect(v).toBeLessThanOrEqual((Date.now() + 1) * 1000);
    expect(Number.isSafeInteger(v)).toBe(true);
  });

  it('strictly increases within the process, even many times in one millisecond', () => {
    const versions = Array.from({ length: 10_000 }, () => nextVersion());
    for (let i = 1; i < versions.length; i++) expect(versions[i]!).toBeGreaterThan(versions[i - 1]!);
  });

  it('is raised above a floor ahead of the clock (another container\'s version, a tombstone), and stays above it', () => {
    const floor = Date.now() * 1000 + 60_000_000; // a minute ahead
    const raised = nextVersion(floor);
    expect(raised).toBe(floor + 1);
    expect(nextVersion()).toBeGreaterThan(raised);
    expect(nextVersion(floor)).toBeGreaterThan(floor + 1);
  });

  it('rounds a fractional floor down before raising it, and ignores a floor behind the clock', () => {
    const floor = Date.now() * 1000 + 90_000_000.75;
    expect(nextVersion(floor)).toBe(Math.floor(floor) + 1);
    const ahead = nextVersion();
    expect(nextVersion(1)).toBeGreaterThan(ahead);
  });

  it('for any floors: every version is above its floor and above every earlier version', () => {
    const base = Date.now() * 1000;
    fc.assert(
      fc.property(fc.array(fc.option(fc.double({ min: 0, max: base + 3_600_000_000, noNaN: true }), { nil: undefined }), { minLength: 1, maxLength: 50 }), (floors) => {
        let previous = nextVersion();
        for (const floor of floors) {
          const v = nextVersion(floor);
          if (!(v > previous) || (floor !== undefined && !(v > floor)) || !Number.isSafeInteger(v)) return false;
          previous = v;
        }
        return true;
      }),
    );
  });
});
