import { ObjectStoreError, ObjectStoreErrorCode } from './errors.js';

/** Longest key, in UTF-8 bytes (S3's limit). */
export const MAX_KEY_BYTES = 1024;
/** Longest key segment, in UTF-8 bytes: a file name on the local adapter (NAME_MAX). */
export const MAX_SEGMENT_BYTES = 255;
/**
 * Segments starting with this are reserved for the adapters' own short-lived objects (the local
 * adapter's temp files, the S3 adapter's conditional-write probe). Users cannot write such keys and
 * listings never show them, so a crash that leaves one behind is invisible.
 */
export const RESERVED_SEGMENT_PREFIX = '.tmp~';

const encoder = new TextEncoder();

// C0 and C1 control characters and DEL: not printable, and invalid in XML 1.0 listings.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A surrogate without its partner cannot be encoded as UTF-8 (S3 would store U+FFFD instead).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'empty segment';
  if (segment === '.' || segment === '..') return `"${segment}" segment`;
  if (segment.startsWith(RESERVED_SEGMENT_PREFIX))
    return `segment starts with the reserved "${RESERVED_SEGMENT_PREFIX}"`;
  if (encoder.encode(segment).length > MAX_SEGMENT_BYTES) return `segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  return undefined;
}

function characterProblem(text: string): string | undefined {
  if (CONTROL.test(text)) return 'control character';
  if (LONE_SURROGATE.test(text)) return 'unpaired surrogate';
  return undefined;
}

/** Why `key` breaks the key rules (see `ObjectStore`), or `undefined` when it is valid. */
export function keyProblem(key: string): string | undefined {
  if (key === '') return 'empty key';
  if (key.startsWith('/')) return 'leading "/"';
  const chars = characterProblem(key);
  if (chars) return chars;
  if (encoder.encode(key).length > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  for (const segment of key.split('/')) {
    const problem = segmentProblem(segment);
    if (problem) return problem;
  }
  return undefined;
}

/** True when `key` follows the key rules. */
export function isValidKey(key: string): boolean {
  return keyProblem(key) === undefined;
}

/** How a key appears in messages: quoted, cut to 120 characters (the full key is in `details.key`). */
export function showKey(key: string): string {
  return JSON.stringify(key.length > 120 ? `${key.slice(0, 120)}…` : key);
}

/**
 * Throws INVALID_KEY naming `key` when it breaks the key rules.
 * @throws {ObjectStoreError} INVALID_KEY
 */
export function checkKey(key: string): void {
  if (typeof key !== 'string') {
    throw new ObjectStoreError(ObjectStoreErrorCode.INVALID_KEY, `invalid key ${String(key)}: not a string`);
  }
  const problem = keyProblem(key);
  if (problem) {
    throw new ObjectStoreError(ObjectStoreErrorCode.INVALID_KEY, `invalid key ${showKey(key)}: ${problem}`, {
      details: { key },
    });
  }
}

/**
 * Throws INVALID_KEY when no valid key can start with `prefix`. The empty prefix matches every key;
 * the last segment of a prefix may be partial (`wal/seg-1` matches `wal/seg-10/x`).
 * @throws {ObjectStoreError} INVALID_KEY
 */
export function checkPrefix(prefix: string): void {
  const problem = prefixProblem(prefix);
  if (problem) {
    throw new ObjectStoreError(ObjectStoreErrorCode.INVALID_KEY, `invalid prefix ${showKey(prefix)}: ${problem}`, {
      details: { prefix },
    });
  }
}

function prefixProblem(prefix: string): string | undefined {
  if (typeof prefix !== 'string') return 'not a string';
  if (prefix === '') return undefined;
  if (prefix.startsWith('/')) return 'leading "/"';
  const chars = characterProblem(prefix);
  if (chars) return chars;
  if (encoder.encode(prefix).length > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  const segments = prefix.split('/');
  const partial = segments.pop() ?? '';
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem) return problem;
  }
  if (encoder.encode(partial).length > MAX_SEGMENT_BYTES) return `segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  return undefined;
}

/** True when a directory entry or key segment is reserved (see {@link RESERVED_SEGMENT_PREFIX}). */
export function isReservedName(name: string): boolean {
  return name.startsWith(RESERVED_SEGMENT_PREFIX);
}

/**
 * Orders keys by their UTF-8 bytes, the order of S3 listings and of {@link ObjectStore.list}.
 * JavaScript's `<` compares UTF-16 code units, which disagrees for characters above U+FFFF versus
 * U+E000..U+FFFF; remapping the code unit at the first difference fixes that without encoding.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000; // surrogates: code points above U+FFFF
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
