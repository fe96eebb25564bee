import { SpareBlockBuffer } from './spare-block-buffer.js';

describe('SpareBlockBuffer', () => {
  it('hands back the kept buffer while the next block fits, with headroom, and a new one when it does not', () => {
    const spare = new SpareBlockBuffer();
    const first = spare.take(40_000);
    expect(first.byteLength).toBe(64 * 1024);
    spare.keep(first);
    expect(spare.take(60_000)).toBe(first);
    // Taken means taken: until it is kept again, the next take gets another buffer.
    const second = spare.take(1000);
    expect(second).not.toBe(first);
    spare.keep(first);
    const larger = spare.take(70_000);
    expect(larger).not.toBe(first);
    expect(larger.byteLength).toBe(128 * 1024);
  });

  it('does not keep a buffer of a rare large block for the writer’s life', () => {
    const spare = new SpareBlockBuffer();
    const big = spare.take(3 * 1024 * 1024);
    spare.keep(big);
    expect(spare.take(1000)).not.toBe(big);
  });
});
