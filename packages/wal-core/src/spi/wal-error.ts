import { CodedError, isCodedError } from '@streamsvc/common';
import type { CodedErrorOptions } from '@streamsvc/common';

/**
 * Error codes of the backend SPI. Backends translate their native errors into these once, at the
 * adapter; the WAL above turns them into {@link StreamingError} codes for clients.
 */
export const WalErrorCode = {
  /** A newer writer owns the log: this handle must stop. The only fencing signal the WAL understands. */
  FENCED: 'FENCED',
  /** The handle (or opener) was closed. */
  CLOSED: 'CLOSED',
  /** append/truncate on a read-only handle. */
  READ_ONLY: 'READ_ONLY',
  /** The storage behind the backend is unreachable or answered a transient error. Retriable. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** The call was aborted after it was sent: the write may or may not be durable. */
  OUTCOME_UNKNOWN: 'OUTCOME_UNKNOWN',
  /** A message id of another backend, or one that points nowhere in this log. */
  INVALID_MESSAGE_ID: 'INVALID_MESSAGE_ID',
  /** Stored data failed its checksum or cannot be decoded; the message names where. */
  CORRUPT: 'CORRUPT',
  /** A bad argument (empty pchannel, term < 1, unknown access mode). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The backend configuration failed validation; the message lists the paths. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** No backend of that name in the registry; the message lists the known ones. */
  BACKEND_UNKNOWN: 'BACKEND_UNKNOWN',
  /** Two backends with one name given to a registry. */
  BACKEND_DUPLICATE: 'BACKEND_DUPLICATE',
} as const;

export type WalErrorCode = (typeof WalErrorCode)[keyof typeof WalErrorCode];

/** The error class of the backend SPI and registry. */
export class WalError extends CodedError<WalErrorCode> {
  constructor(code: WalErrorCode, message: string, options?: CodedErrorOptions) {
    super('wal', code, `[wal] ${message}`, code === WalErrorCode.UNAVAILABLE, options);
  }

  /** True when `e` is a WalError (from any copy of this package), optionally with `code`. */
  static is(e: unknown, code?: WalErrorCode): e is WalError {
    return isCodedError(e, 'wal', code);
  }

  /** The error every call on a closed handle rejects with. */
  static closed(what: string): WalError {
    return new WalError(WalErrorCode.CLOSED, `${what}: the handle is closed`);
  }

  /** The error append/truncate on a read-only handle rejects with. */
  static readOnly(op: string, pchannel: string): WalError {
    return new WalError(WalErrorCode.READ_ONLY, `${op} on pchannel "${pchannel}" opened read-only`);
  }
}
