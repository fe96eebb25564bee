import { CodedError, isCodedError } from '@streamsvc/common';
import type { CodedErrorOptions } from '@streamsvc/common';

/** Error codes of the objectstore layer. Codes are API; see the package README for meanings. */
export const ObjectStoreErrorCode = {
  /** No object under the key. */
  NOT_FOUND: 'NOT_FOUND',
  /** `putIfAbsent` found an object under the key (or lost the race to another writer). */
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  /** The key breaks the key rules (see `ObjectStore`). */
  INVALID_KEY: 'INVALID_KEY',
  /** Another argument is out of range (negative offset, page size, ...). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The storage cannot be reached or answered a transient error (timeouts, 5xx, throttling). Retriable. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** Credentials were refused, or the bucket is missing or not ours: fix the configuration, do not retry. */
  ACCESS_DENIED: 'ACCESS_DENIED',
  /** The backend cannot do what was asked (e.g. an S3 server that ignores conditional writes). */
  UNSUPPORTED: 'UNSUPPORTED',
  /** The store was closed. */
  CLOSED: 'CLOSED',
  /** The backend failed in a way this layer does not recognise (the cause says how). Not retriable. */
  INTERNAL: 'INTERNAL',
} as const;

/** One of the {@link ObjectStoreErrorCode} values. */
export type ObjectStoreErrorCode = (typeof ObjectStoreErrorCode)[keyof typeof ObjectStoreErrorCode];

const RETRIABLE: ReadonlySet<ObjectStoreErrorCode> = new Set([ObjectStoreErrorCode.UNAVAILABLE]);

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
    return new ObjectStoreError(ObjectStoreErrorCode.CLOSED, `${op} on a closed store`);
  }
}
