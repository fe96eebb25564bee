import fc from 'fast-check';

import { ObjectStoreError } from './errors.js';
import { checkKey, checkPrefix, compareKeys, isValidKey, keyProblem } from './keys.js';

const codeOf = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return ObjectStoreError.is(e) ? e.code : 'not an ObjectStoreError';
  }
};

describe('key validation', () => {
  it.each([
    'a',
    'wal/log-1/seg-0/block-000001',
    'a/b.c/..d/.e',
    'sp ace/plus+/percent%/ünï/😀',
    'x'.repeat(255),
    `${'x'.repeat(255)}/${'y'.repeat(255)}/${'z'.repeat(255)}/${'w'.repeat(255)}`, // 1023 bytes
    'a/.tmp/b', // only the exact ".tmp~" prefix is reserved
  ])('accepts %j', (key) => {
    expect(keyProblem(key)).toBeUndefined();
    expect(() => checkKey(key)).not.toThrow();
  });

  it.each([
    ['', 'empty key'],
    ['/a', 'leading "/"'],
    ['a/', 'empty segment'],
    ['a//b', 'empty segment'],
    ['./a', '"." segment'],
    ['a/../b', '".." segment'],
    ['a/..', '".." segment'],
    ['a/.tmp~x', 'reserved'],
    ['.tmp~', 'reserved'],
    ['a\u0000b', 'control character'],
    ['a\nb', 'control character'],
    ['a\u007fb', 'control character'],
    ['a\u0085b', 'control character'],
    ['a\ud800b', 'unpaired surrogate'],
    ['a\udc00', 'unpaired surrogate'],
    ['x'.repeat(256), 'segment longer than 255 bytes'],
    ['é'.repeat(128), 'segment longer than 255 bytes'], // 256 bytes in 128 characters
    [Array.from({ length: 5 }, () => 'y'.repeat(205)).join('/'), 'longer than 1024 bytes'], // 1029 bytes
  ])('rejects %j with INVALID_KEY (%s) naming the key', (key, reason) => {
    expect(keyProblem(key)).toContain(reason);
    let error: unknown;
    try {
      checkKey(key);
    } catch (e) {
      error = e;
    }
    expect(ObjectStoreError.is(error, 'INVALID_KEY')).toBe(true);
    const shown = JSON.stringify(key.length > 120 ? `${key.slice(0, 120)}…` : key);
    expect((error as Error).message).toContain(shown);
    expect((error as ObjectStoreError).details).toEqual({ key });
    expect((error as ObjectStoreError).retriable).toBe(false);
  });

  it('rejects a key that is not a string with INVALID_KEY', () => {
    expect(codeOf(() => checkKey(42 as unknown as string))).toBe('INVALID_KEY');
  });
});

describe('prefix validation', () => {
  it.each(['', 'a', 'a/', 'a/b', 'wal/seg-1', '.', '..', 'a/..x', 'a/.tm', 'a/.tmp~'])('accepts %j', (prefix) => {
    expect(codeOf(() => checkPrefix(prefix))).toBeUndefined();
  });

  it.each(['/', '/a', 'a//', 'a/../', './', 'a/.tmp~x/', 'a\u0000', 'x'.repeat(256)])(
    'rejects %j, which no valid key can start with, with INVALID_KEY',
    (prefix) => {
      expect(codeOf(() => checkPrefix(prefix))).toBe('INVALID_KEY');
    },
  );
});

describe('compareKeys', () => {
  it('orders keys by UTF-8 bytes, as S3 lists them', () => {
    const keys = ['a0', 'a/b', 'a.x', 'a-x', 'a', '\uE000', '😀', 'z', 'é'];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
    expect(byBytes).toEqual(['a', 'a-x', 'a.x', 'a/b', 'a0', 'z', 'é', '\uE000', '😀']);
  });

  it('agrees with Buffer.compare of the UTF-8 encodings for any two well-formed strings', () => {
    const wellFormed = fc.string({ unit: 'grapheme-composite', maxLength: 12 });
    fc.assert(
      fc.property(wellFormed, wellFormed, (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
      { numRuns: 2000 },
    );
  });

  it('treats the reserved prefix as invalid but lets isValidKey accept ordinary keys', () => {
    expect(isValidKey('.tmp~abc')).toBe(false);
    expect(isValidKey('tmp~abc')).toBe(true);
  });
});
