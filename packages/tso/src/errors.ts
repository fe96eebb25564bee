import { CodedError, isCodedError } from '@streamsvc/common';
import type { CodedErrorOptions } from '@streamsvc/common';

/** Error codes of the TSO layer. */
export const TsoErrorCode = {
  /** The window could not be persisted (metastore unavailable); allocation waits were cut short. Retriable. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** Another allocator wrote the window: this one must stop issuing timestamps. */
  FENCED: 'FENCED',
  /** A request the allocator cannot serve (count outside 1..262143, corrupt persisted window). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The allocator was closed. */
  CLOSED: 'CLOSED',
} as const;

export type TsoErrorCode = (typeof TsoErrorCode)[keyof typeof TsoErrorCode];

/** The one error class of `@streamsvc/tso`. */
export class TsoError extends CodedError<TsoErrorCode> {
  constructor(code: TsoErrorCode, message: string, options?: CodedErrorOptions) {
    super('tso', code, `[tso] ${message}`, code === TsoErrorCode.UNAVAILABLE, options);
  }

  /** True when `e` is a TsoError (from any copy of this package), optionally with `code`. */
  static is(e: unknown, code?: TsoErrorCode): e is TsoError {
    return isCodedError(e, 'tso', code);
  }
}
