import fc from 'fast-check';
import { expectMessageError } from '../test/support/fixtures.js';
import { checkUint64, decodeBase36, decodeBase64, encodeBase36, encodeBase64, MAX_UINT64 } from './property-values.js';

describe('base36 time-tick encoding', () => {
  it('writes lowercase base36 like Milvus', () => {
    expect(encodeBase36(0n, 'tt')).toBe('0');
    expect(encodeBase36(35n, 'tt')).toBe('z');
    expect(encodeBase36(36n, 'tt')).toBe('10');
    expect(encodeBase36(MAX_UINT64, 'tt')).toBe('3w5e11264sgsf');
  });

  it('round-trips every uint64 in both directions', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_UINT64 }), (v) => {
        const text = encodeBase36(v, 'tt');
        expect(decodeBase36(text, 'tt')).toBe(v);
        expect(encodeBase36(decodeBase36(text, 'tt'), 'tt')).toBe(text);
      }),
    );
  });

  it('keeps any 64-bit time tick within 13 characters', () => {
    expect(encodeBase36(MAX_UINT64, 'tt')).toHaveLength(13);
  });

  it('rejects non-canonical, signed, uppercase and oversized strings with INVALID_MESSAGE naming the property', () => {
    for (const bad of ['', '00', '01', '-1', '+1', 'A', ' 1', '1 ', '1.0', '3w5e11264sgsg', '10000000000000']) {
      const text = expectMessageError(() => decodeBase36(bad, 'time tick (_tt)'), 'INVALID_MESSAGE');
      expect(text).toContain('time tick (_tt)');
    }
  });

  it('rejects values outside [0, 2^64-1] when encoding', () => {
    expectMessageError(() => encodeBase36(-1n, 'time tick'), 'INVALID_MESSAGE');
    expectMessageError(() => encodeBase36(MAX_UINT64 + 1n, 'time tick'), 'INVALID_MESSAGE');
    expectMessageError(() => checkUint64(5 as unknown as bigint, 'time tick'), 'INVALID_MESSAGE');
  });
});

describe('base64 protobuf encoding', () => {
  it('round-trips arbitrary bytes with standard padded base64', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
        expect(Buffer.from(decodeBase64(text, '_h'))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('encodes a view of a larger buffer without its neighbours', () => {
    const big = new Uint8Array([9, 1, 2, 9]);
    expect(encodeBase64(big.subarray(1, 3))).toBe(Buffer.from([1, 2]).toString('base64'));
  });

  it('rejects junk that Node would silently skip, with INVALID_MESSAGE', () => {
    for (const bad of ['@@@@', 'AA', 'AAA', 'AA=A', 'A===', 'AAAA ', '-_-_']) {
      expectMessageError(() => decodeBase64(bad, 'header (_h)'), 'INVALID_MESSAGE');
    }
  });
});
