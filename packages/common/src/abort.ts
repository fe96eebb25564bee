/** Helpers for the `{ signal?: AbortSignal }` option every async method takes. */

/** Options bag accepted by every async operation in streamsvc. */
export interface CallOptions {
  /** Aborts the operation. What an abort means (not done / outcome unknown) is documented per method. */
  readonly signal?: AbortSignal | undefined;
}

/** The error an aborted operation rejects with: the signal's reason, or a DOMException named AbortError. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** Throws the signal's reason when it is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/** True when `e` is what an aborted signal rejected with (an AbortError or TimeoutError). */
export function isAbortError(e: unknown): boolean {
  // Structural on purpose: DOMException may come from another realm (jest, worker threads).
  const name = typeof e === 'object' && e !== null ? (e as { name?: unknown }).name : undefined;
  return name === 'AbortError' || name === 'TimeoutError';
}

/**
 * Races `promise` against `signal`. On abort the returned promise rejects with the signal's reason;
 * the underlying work is not cancelled (callers use this only where that is harmless).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
