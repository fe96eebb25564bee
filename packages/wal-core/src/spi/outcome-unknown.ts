import { abortReason } from '@streamsvc/common';

import { WalError, WalErrorCode } from './wal-error.js';

/**
 * For backends: `append`, except that an abort while it is in flight rejects with OUTCOME_UNKNOWN —
 * the append itself goes on, so the caller cannot know whether the message was persisted.
 */
export function outcomeUnknownOnAbort<T>(
  append: Promise<T>,
  signal: AbortSignal | undefined,
  pchannel: string,
): Promise<T> {
  if (signal === undefined) return append;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(
        new WalError(
          WalErrorCode.OUTCOME_UNKNOWN,
          `append on pchannel "${pchannel}" aborted in flight; the message may be persisted`,
          { cause: abortReason(signal) },
        ),
      );
    };
    signal.addEventListener('abort', onAbort, { once: true });
    append.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
