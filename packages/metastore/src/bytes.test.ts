import { compareBytes, compareKeys, hasPrefix, prefixEnd, utf8 } from './bytes.js';

describe('byte helpers', () => {
  it('computes the end of a prefix range, unbounded for an empty or all-0xff prefix', () => {
    expect([...prefixEnd(Uint8Array.from([1, 2]))!]).toEqual([1, 3]);
    expect([...prefixEnd(Uint8Array.from([1, 0xff, 0xff]))!]).toEqual([2]);
    expect(prefixEnd(new Uint8Array(0))).toBeUndefined();
    expect(prefixEnd(Uint8Array.from([0xff]))).toBeUndefined();
  });

  it('leaves a Buffer prefix untouched (regression: Buffer#slice is a view)', () => {
    const prefix = Buffer.from('ns/a');
    const end = prefixEnd(prefix)!;
    expect(prefix.toString()).toBe('ns/a');
    expect(Buffer.from(end).toString()).toBe('ns/b');
  });

  it('orders keys by UTF-8 bytes, not by UTF-16 code units', () => {
    // U+FF5E is one UTF-16 unit above the surrogates but sorts below a 4-byte emoji in UTF-8.
    expect(compareKeys('\uff5e', '😀')).toBeLessThan(0);
    expect('\uff5e' < '😀').toBe(false);
    expect(compareBytes(utf8('a'), utf8('ab'))).toBeLessThan(0);
    expect(hasPrefix(utf8('abc'), utf8('ab'))).toBe(true);
    expect(hasPrefix(utf8('a'), utf8('ab'))).toBe(false);
  });
});
