import { abortReason } from '@streamsvc/common';

import { ObjectStoreError, ObjectStoreErrorCode } from './errors.js';
import type { ByteRange } from './object-store.js';

/** Default and largest page size of `list`. */
export const MAX_LIST_LIMIT = 1000;
/** Default `maxObjectBytes` of both adapters: what minio sends as one PUT by default. */
export const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;

function invalidArgument(message: string, details?: Record<string, unknown>): ObjectStoreError {
  return new ObjectStoreError(ObjectStoreErrorCode.INVALID_ARGUMENT, message, details ? { details } : undefined);
}

const isNonNegativeInteger = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** @throws {ObjectStoreError} INVALID_ARGUMENT for a negative, fractional or non-numeric offset or length. */
export function checkRange(range: ByteRange): void {
  if (!isNonNegativeInteger(range?.offset)) {
    throw invalidArgument(`range offset must be an integer >= 0, got ${String(range?.offset)}`);
  }
  if (range.length !== undefined && !isNonNegativeInteger(range.length)) {
    throw invalidArgument(`range length must be an integer >= 0, got ${String(range.length)}`);
  }
}

/**
 * Returns the page size to use.
 * @throws {ObjectStoreError} INVALID_ARGUMENT when `limit` is not an integer in 1..1000.
 */
export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw invalidArgument(`list limit must be an integer in 1..${MAX_LIST_LIMIT}, got ${String(limit)}`);
  }
  return limit;
}

/** @throws {ObjectStoreError} INVALID_ARGUMENT when `data` is not a Uint8Array or exceeds `maxObjectBytes`. */
export function checkData(key: string, data: Uint8Array, maxObjectBytes: number): void {
  if (!(data instanceof Uint8Array)) throw invalidArgument(`data for ${JSON.stringify(key)} must be a Uint8Array`);
  if (data.byteLength > maxObjectBytes) {
    throw invalidArgument(
      `object ${JSON.stringify(key)} has ${data.byteLength} bytes, more than maxObjectBytes (${maxObjectBytes})`,
      { key, size: data.byteLength, maxObjectBytes },
    );
  }
}

/**
 * Checks a `maxObjectBytes` setting.
 * @throws {ObjectStoreError} INVALID_ARGUMENT when it is not an integer in 0..`ceiling`.
 */
export function checkMaxObjectBytes(value: number | undefined, ceiling: number): number {
  if (value === undefined) return Math.min(DEFAULT_MAX_OBJECT_BYTES, ceiling);
  if (!isNonNegativeInteger(value) || value > ceiling) {
    throw invalidArgument(`maxObjectBytes must be an integer in 0..${ceiling}, got ${String(value)}`);
  }
  return value;
}

/**
 * The admission rule every store method shares: reject on a closed store (CLOSED) or an aborted
 * signal (its reason) before doing anything, and remember calls in flight so `close()` can wait for
 * them — a close must not pull a file handle or socket from under a running write.
 */
export class CallGate {
  #closed = false;
  readonly #inflight = new Set<Promise<unknown>>();

  /** Whether `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `fn` unless the gate is closed or `signal` is aborted; synchronous throws become rejections. */
  run<T>(op: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(ObjectStoreError.closed(op));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const call = (async () => fn())();
    this.#inflight.add(call);
    const forget = (): void => {
      this.#inflight.delete(call);
    };
    call.then(forget, forget);
    return call;
  }

  /** Refuses new calls and resolves once every call in flight has settled. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inflight]);
  }
}
