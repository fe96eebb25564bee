import { CodedError, isCodedError } from '@streamsvc/common';
import type { CodedErrorOptions } from '@streamsvc/common';

/** Error codes of the metastore layer. Codes are API; see the package README for meanings. */
export const MetaKvErrorCode = {
  /** The store cannot be reached right now (network, leader election, restart). Retriable. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** The requested revision was compacted away. Re-read the current state and continue from there. */
  COMPACTED: 'COMPACTED',
  /** The lease does not exist (expired or revoked). */
  LEASE_NOT_FOUND: 'LEASE_NOT_FOUND',
  /** A session's lease was lost: its owner must stop acting on what the session protected. */
  SESSION_LOST: 'SESSION_LOST',
  /** A caller passed something the store cannot accept (empty key, bad page size, ...). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The store was closed. */
  CLOSED: 'CLOSED',
  /** The stored data is unreadable (the embedded database is damaged). */
  CORRUPT: 'CORRUPT',
  /**
   * The embedded database is already open for writing, in this process or another one. Only one
   * writer may hold it; close the other store first.
   */
  LOCKED: 'LOCKED',
} as const;

export type MetaKvErrorCode = (typeof MetaKvErrorCode)[keyof typeof MetaKvErrorCode];

const RETRIABLE: ReadonlySet<MetaKvErrorCode> = new Set([MetaKvErrorCode.UNAVAILABLE]);

/** The one error class of `@streamsvc/metastore`. */
export class MetaKvError extends CodedError<MetaKvErrorCode> {
  constructor(code: MetaKvErrorCode, message: string, options?: CodedErrorOptions) {
    super('metastore', code, `[metastore] ${message}`, RETRIABLE.has(code), options);
  }

  /** True when `e` is a MetaKvError (from any copy of this package), optionally with `code`. */
  static is(e: unknown, code?: MetaKvErrorCode): e is MetaKvError {
    return isCodedError(e, 'metastore', code);
  }

  /** The error every call on a closed store rejects with. */
  static closed(op: string): MetaKvError {
    return new MetaKvError(MetaKvErrorCode.CLOSED, `${op} on a closed store`);
  }
}
