import { physicalMsOf } from './hybrid-ts.js';
import { wallClockTsoSource } from './wall-clock-source.js';

describe('wallClockTsoSource', () => {
  it('hands out blocks at the wall clock, each after the one before', async () => {
    const source = wallClockTsoSource();
    const before = Date.now();
    const first = await source.allocate(10);
    expect(physicalMsOf(first)).toBeGreaterThanOrEqual(before);
    expect(physicalMsOf(first)).toBeLessThanOrEqual(Date.now());
    const second = await source.allocate(5);
    expect(second).toBeGreaterThanOrEqual(first + 10n);
  });
});
