/**
 * Byte helpers shared by both adapters. Keys are strings at the port and UTF-8 bytes in the stores;
 * UTF-8 byte order equals code-point order, so "ascending byte order" (etcd's) is well defined.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The string whose UTF-8 bytes are `bytes`. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** A value as bytes: strings are UTF-8 encoded, byte arrays are copied so later caller edits cannot leak in. */
export function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? utf8(value) : Uint8Array.from(value);
}

/** Lexicographic byte comparison (like `memcmp` with the shorter array first on a tie). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * The smallest byte string greater than every string starting with `prefix`, or `undefined` when there
 * is none (an empty prefix, or one made only of 0xff bytes): then the range is unbounded above.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      // Copy explicitly: on a Buffer, `slice` is a view and the increment would change `prefix`.
      const end = Uint8Array.prototype.slice.call(prefix, 0, i + 1);
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return undefined;
}

/** Whether `key` starts with `prefix` (byte-wise). */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}

/** Orders two keys the way the stores do: by their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return a === b ? 0 : compareBytes(utf8(a), utf8(b));
}
