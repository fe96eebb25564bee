import fc from 'fast-check';

import {
  LOGICAL_PER_MS,
  MAX_PHYSICAL_MS,
  compareTs,
  composeTs,
  formatTs,
  physicalMsOf,
  splitTs,
  tsAtMs,
} from './hybrid-ts.js';

const physical = fc.integer({ min: 0, max: MAX_PHYSICAL_MS });
const logical = fc.integer({ min: 0, max: LOGICAL_PER_MS - 1 });

describe('hybrid timestamps', () => {
  it('split undoes compose for every physical and logical part', () => {
    fc.assert(
      fc.property(physical, logical, (p, l) => {
        const ts = composeTs(p, l);
        expect(splitTs(ts)).toEqual({ physicalMs: p, logical: l });
        expect(physicalMsOf(ts)).toBe(p);
      }),
    );
  });

  it('orders timestamps by physical time first, then by the logical counter', () => {
    fc.assert(
      fc.property(physical, logical, physical, logical, (p1, l1, p2, l2) => {
        const expected = p1 !== p2 ? Math.sign(p1 - p2) : Math.sign(l1 - l2);
        expect(compareTs(composeTs(p1, l1), composeTs(p2, l2))).toBe(expected === 0 ? 0 : expected);
      }),
    );
  });

  it('puts the first timestamp of a millisecond above every timestamp of earlier milliseconds', () => {
    expect(tsAtMs(1000) > composeTs(999, LOGICAL_PER_MS - 1)).toBe(true);
    expect(tsAtMs(1000)).toBe(composeTs(1000, 0));
  });

  it('rejects parts out of range with a RangeError naming the part', () => {
    expect(() => composeTs(-1, 0)).toThrow(/physical part -1/);
    expect(() => composeTs(1.5, 0)).toThrow(RangeError);
    expect(() => composeTs(0, LOGICAL_PER_MS)).toThrow(/logical part 262144/);
    expect(() => composeTs(MAX_PHYSICAL_MS + 1, 0)).toThrow(RangeError);
  });

  it('formats a timestamp as ISO time plus the logical counter', () => {
    expect(formatTs(composeTs(Date.UTC(2026, 10, 25, 15, 42, 54, 123), 17))).toBe('2026-11-25T15:42:54.123Z+17');
  });
});
