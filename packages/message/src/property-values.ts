import { MessageError } from './message-error.js';

/** The largest unsigned 64-bit value: time ticks are uint64 (TSO = physical ms << 18 | logical). */
export const MAX_UINT64 = (1n << 64n) - 1n;

const BASE36 = /^(0|[1-9a-z][0-9a-z]{0,12})$/;
const BASE36_POW6 = 36n ** 6n;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Encodes an unsigned 64-bit value as lowercase base36 (the `_tt`/`_wt`/`_btt` encoding).
 * @throws MessageError `INVALID_MESSAGE` when `value` is negative or above 2^64-1 (`what` names it).
 */
export function encodeBase36(value: bigint, what: string): string {
  checkUint64(value, what);
  return value.toString(36);
}

/**
 * Decodes a canonical base36 string (no sign, no leading zeros, lowercase) into a uint64.
 * Canonical only, so that decode(encode(x)) and encode(decode(s)) are both identities.
 * @throws MessageError `INVALID_MESSAGE` naming `what` and the bad value.
 */
export function decodeBase36(text: string, what: string): bigint {
  if (!BASE36.test(text)) throw badValue(what, text, 'is not canonical lowercase base36');
  // Every append reads _tt: parse up to 7 high and 6 low digits as numbers (36^7 < 2^53, exact)
  // and combine them once, instead of one bigint multiply per digit.
  const split = Math.max(0, text.length - 6);
  const low = BigInt(parseInt(text.slice(split), 36));
  const value = split === 0 ? low : BigInt(parseInt(text.slice(0, split), 36)) * BASE36_POW6 + low;
  if (value > MAX_UINT64) throw badValue(what, text, 'is above 2^64-1');
  return value;
}

/** Encodes bytes as standard padded base64 (the `_h`/`_tx`/`_bh` encoding). */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Decodes standard padded base64. Strict, because Node's decoder silently skips junk characters and a
 * corrupt property must be reported, not half-read.
 * @throws MessageError `INVALID_MESSAGE` naming `what`.
 */
export function decodeBase64(text: string, what: string): Uint8Array {
  if (!BASE64.test(text)) throw badValue(what, text, 'is not standard base64');
  return Buffer.from(text, 'base64');
}

/**
 * Checks that `value` is a bigint in [0, 2^64-1].
 * @throws MessageError `INVALID_MESSAGE` naming `what`.
 */
export function checkUint64(value: bigint, what: string): void {
  if (typeof value !== 'bigint') {
    throw new MessageError('INVALID_MESSAGE', `${what} must be a bigint, got ${typeof value}`);
  }
  if (value < 0n || value > MAX_UINT64) {
    throw new MessageError('INVALID_MESSAGE', `${what} ${value} is outside [0, 2^64-1]`, {
      details: { what, value: value.toString() },
    });
  }
}

function badValue(what: string, text: string, problem: string): MessageError {
  const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return new MessageError('INVALID_MESSAGE', `${what} ${JSON.stringify(shown)} ${problem}`, { details: { what } });
}
