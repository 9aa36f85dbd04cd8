import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunk, groupByToken } from '../../../lib/tpns/token-entries.js';

describe('chunk', () => {
  it('splits 1 000 items into 50 chunks of 20', () => {
    const chunks = chunk(Array.from({ length: 1000 }, (_, i) => i), 20);
    expect(chunks).toHaveLength(50);
    expect(chunks.every((part) => part.length === 20)).toBe(true);
  });

  it('keeps every item once, in order, with no chunk over the size', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: 1, max: 30 }), (items, size) => {
        const chunks = chunk(items, size);
        expect(chunks.flat()).toEqual(items);
        expect(chunks.every((part) => part.length >= 1 && part.length <= size)).toBe(true);
        expect(chunks).toHaveLength(Math.ceil(items.length / size));
      }),
    );
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => chunk([1], 0)).toThrow(RangeError);
    expect(() => chunk([1], 1.5)).toThrow(RangeError);
  });
});

describe('groupByToken', () => {
  it('overwrite: one entry per token, types merged, the last binding of a type wins', () => {
    const { entries, supersededBy } = groupByToken(
      [
        { token: 'tA', accounts: [{ account: 'alice' }] },
        { token: 'tB', accounts: [{ account: 'bob', accountType: 0 }] },
        { token: 'tA', accounts: [{ account: 'alice-phone', accountType: 1002 }] },
        { token: 'tA', accounts: [{ account: 'carol', accountType: 0 }] },
      ],
      'overwrite',
    );
    expect(entries).toEqual([
      {
        token: 'tA',
        account_list: [
          { account: 'carol', account_type: 0 },
          { account: 'alice-phone', account_type: 1002 },
        ],
        indexes: [0, 2, 3],
      },
      { token: 'tB', account_list: [{ account: 'bob', account_type: 0 }], indexes: [1] },
    ]);
    expect([...supersededBy]).toEqual([[0, 3]]);
  });

  it('overwrite: the same binding twice is a duplicate, not a supersession', () => {
    const { entries, supersededBy } = groupByToken(
      [
        { token: 't', accounts: [{ account: 'alice' }] },
        { token: 't', accounts: [{ account: 'alice', accountType: 0 }] },
      ],
      'overwrite',
    );
    expect(entries).toEqual([{ token: 't', account_list: [{ account: 'alice', account_type: 0 }], indexes: [0, 1] }]);
    expect(supersededBy.size).toBe(0);
  });

  it('union: account lists of one token are united without duplicates', () => {
    const { entries, supersededBy } = groupByToken(
      [
        { token: 't', accounts: [{ account: 'a1' }, { account: 'a2', accountType: 1 }] },
        { token: 't', accounts: [{ account: 'a1', accountType: 0 }, { account: 'a3' }] },
      ],
      'union',
    );
    expect(entries).toEqual([
      {
        token: 't',
        account_list: [
          { account: 'a1', account_type: 0 },
          { account: 'a2', account_type: 1 },
          { account: 'a3', account_type: 0 },
        ],
        indexes: [0, 1],
      },
    ]);
    expect(supersededBy.size).toBe(0);
  });
});
