/**
 * Hybrid timestamps: a 64-bit `bigint` `(physicalMs << 18) | logical`. The physical part is Unix
 * milliseconds, the logical part counts up to 2^18 - 1 timestamps within one millisecond. Timestamps
 * from different allocations compare as plain bigints, and the physical part tells roughly when.
 */

/** Bits of the logical part. */
export const LOGICAL_BITS = 18n;
/** Number of distinct logical values per millisecond (262 144). */
export const LOGICAL_PER_MS = 1 << Number(LOGICAL_BITS);
const LOGICAL_MASK = (1n << LOGICAL_BITS) - 1n;
/** The largest physical millisecond a 64-bit hybrid timestamp can hold. */
export const MAX_PHYSICAL_MS = Number((1n << (64n - LOGICAL_BITS)) - 1n);

/** A hybrid timestamp split into its parts. */
export interface TsParts {
  readonly physicalMs: number;
  readonly logical: number;
}

/**
 * Builds a hybrid timestamp.
 * @throws RangeError when a part is negative, not an integer, or too large.
 */
export function composeTs(physicalMs: number, logical: number): bigint {
  if (!Number.isSafeInteger(physicalMs) || physicalMs < 0 || physicalMs > MAX_PHYSICAL_MS) {
    throw new RangeError(`[tso] physical part ${physicalMs} is not an integer in 0..${MAX_PHYSICAL_MS}`);
  }
  if (!Number.isInteger(logical) || logical < 0 || logical >= LOGICAL_PER_MS) {
    throw new RangeError(`[tso] logical part ${logical} is not an integer in 0..${LOGICAL_PER_MS - 1}`);
  }
  return (BigInt(physicalMs) << LOGICAL_BITS) | BigInt(logical);
}

/** Splits a hybrid timestamp into its physical milliseconds and logical counter. */
export function splitTs(ts: bigint): TsParts {
  return { physicalMs: Number(ts >> LOGICAL_BITS), logical: Number(ts & LOGICAL_MASK) };
}

/** The physical part (Unix ms) of a hybrid timestamp. */
export function physicalMsOf(ts: bigint): number {
  return Number(ts >> LOGICAL_BITS);
}

/** `-1`, `0` or `1` as `a` is before, equal to or after `b`. */
export function compareTs(a: bigint, b: bigint): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The smallest hybrid timestamp of a wall-clock millisecond: every ts issued at or after `ms` is ≥ it. */
export function tsAtMs(ms: number): bigint {
  return composeTs(ms, 0);
}

/** `2026-11-25T15:42:54.123Z+17` — the physical part as ISO time and the logical part, for logs. */
export function formatTs(ts: bigint): string {
  const { physicalMs, logical } = splitTs(ts);
  return `${new Date(physicalMs).toISOString()}+${logical}`;
}
