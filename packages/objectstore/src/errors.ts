import { CodedError, isCodedError } from '@streamsvc/common';
import type { CodedErrorOptions } from '@streamsvc/common';

/** Error codes of the objectstore layer. Codes are API; see the package README for meanings. */
export const ObjectStoreErrorCode = {
  /** No object under the key. */
  NotFound: 'NOT_FOUND',
  /** `putIfAbsent` found an object under the key (or lost the race to another writer). */
  AlreadyExists: 'ALREADY_EXISTS',
  /** The key breaks the key rules (see `ObjectStore`). */
  InvalidKey: 'INVALID_KEY',
  /** Another argument is out of range (negative offset, page size, ...). */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** The storage cannot be reached or answered a transient error (timeouts, 5xx, throttling). Retriable. */
  Unavailable: 'UNAVAILABLE',
  /** Credentials were refused, or the bucket is missing or not ours: fix the configuration, do not retry. */
  AccessDenied: 'ACCESS_DENIED',
  /** The backend cannot do what was asked (e.g. an S3 server that ignores conditional writes). */
  Unsupported: 'UNSUPPORTED',
  /** The store was closed. */
  Closed: 'CLOSED',
  /** The backend failed in a way this layer does not recognise (the cause says how). Not retriable. */
  Internal: 'INTERNAL',
} as const;

/** One of the {@link ObjectStoreErrorCode} values. */
export type ObjectStoreErrorCode = (typeof ObjectStoreErrorCode)[keyof typeof ObjectStoreErrorCode];

const RETRIABLE: ReadonlySet<ObjectStoreErrorCode> = new Set([ObjectStoreErrorCode.Unavailable]);

/** The one error class of `@streamsvc/objectstore`. */
export class ObjectStoreError extends CodedError<ObjectStoreErrorCode> {
  constructor(code: ObjectStoreErrorCode, message: string, options?: CodedErrorOptions) {
    super('objectstore', code, `[objectstore] ${message}`, RETRIABLE.has(code), options);
  }

  /** True when `e` is an ObjectStoreError (from any copy of this package), optionally with `code`. */
  static is(e: unknown, code?: ObjectStoreErrorCode): e is ObjectStoreError {
    return isCodedError(e, 'objectstore', code);
  }

  /** The error every call on a closed store rejects with. */
  static closed(op: string): ObjectStoreError {
    return new ObjectStoreError(ObjectStoreErrorCode.Closed, `${op} on a closed store`);
  }
}
