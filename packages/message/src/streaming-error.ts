import { CodedError, isCodedError } from '@streamsvc/common';
import type { CodedErrorOptions } from '@streamsvc/common';

/**
 * The error codes of the streaming protocol: what a WAL, a streaming node or the coordinator answers,
 * and what a client branches on. They live here, beside the message model, because server and client
 * both speak them and the client depends on nothing but this package and the generated protocol.
 *
 * Codes are API (numbers too: they travel in gRPC status details); messages are not.
 */
export const StreamingErrorCode = {
  /** The pchannel is not open on this node (never assigned here, or moved away). Retry after new topology. */
  CHANNEL_NOT_EXIST: 'CHANNEL_NOT_EXIST',
  /** A newer owner took the pchannel over: this WAL stopped. Retry after new topology. */
  CHANNEL_FENCED: 'CHANNEL_FENCED',
  /** The node or WAL is shutting down. Retry elsewhere. */
  ON_SHUTDOWN: 'ON_SHUTDOWN',
  /** A request arrived out of protocol order (e.g. a produce before create-producer). */
  INVALID_REQUEST_SEQ: 'INVALID_REQUEST_SEQ',
  /** The request named a term that is not the pchannel's current one here. Retry after new topology. */
  UNMATCHED_CHANNEL_TERM: 'UNMATCHED_CHANNEL_TERM',
  /** A stale coordinator command (older term) that the node ignored on purpose. */
  IGNORED_OPERATION: 'IGNORED_OPERATION',
  /** A failure inside the server that is not the caller's fault. Retriable with backoff. */
  INNER: 'INNER',
  /** The request is malformed: bad message, size over the limit, self-controlled type from a client... */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The txn outlived its keepalive; it can only be abandoned. */
  TRANSACTION_EXPIRED: 'TRANSACTION_EXPIRED',
  /** The txn is not in a state that allows this (commit after rollback, body after commit, unknown txn). */
  INVALID_TRANSACTION_STATE: 'INVALID_TRANSACTION_STATE',
  /** The operation can never succeed (data lost, invariant broken). */
  UNRECOVERABLE: 'UNRECOVERABLE',
  /** A resource key is held by another broadcast. Retriable. */
  RESOURCE_ACQUIRED: 'RESOURCE_ACQUIRED',
  /** The vchannel's collection was never created (nothing but CreateCollection may come first). */
  VCHANNEL_NOT_EXIST: 'VCHANNEL_NOT_EXIST',
  /** The vchannel's collection was dropped: nothing may be appended to it any more. */
  VCHANNEL_DROPPED: 'VCHANNEL_DROPPED',
  /** An Insert or partition DDL named a partition the collection does not have. */
  PARTITION_NOT_EXIST: 'PARTITION_NOT_EXIST',
  /** The caller aborted, or a deadline passed, after the request was sent: it may or may not have happened. */
  OUTCOME_UNKNOWN: 'OUTCOME_UNKNOWN',
  /** This coordinator is a standby (another one is active): ask another endpoint. Retriable. */
  COORDINATOR_NOT_ACTIVE: 'COORDINATOR_NOT_ACTIVE',
  /** Anything not otherwise classified (decoding an unknown code from a newer server). */
  UNKNOWN: 'UNKNOWN',
} as const;

/** One of the {@link StreamingErrorCode} values. */
export type StreamingErrorCode = (typeof StreamingErrorCode)[keyof typeof StreamingErrorCode];

/** Wire numbers of the codes (gRPC status details, persisted broadcast results). Never reuse a number. */
export const STREAMING_ERROR_NUMBERS: Readonly<Record<StreamingErrorCode, number>> = {
  CHANNEL_NOT_EXIST: 1,
  CHANNEL_FENCED: 2,
  ON_SHUTDOWN: 3,
  INVALID_REQUEST_SEQ: 4,
  UNMATCHED_CHANNEL_TERM: 5,
  IGNORED_OPERATION: 6,
  INNER: 7,
  INVALID_ARGUMENT: 8,
  TRANSACTION_EXPIRED: 9,
  INVALID_TRANSACTION_STATE: 10,
  UNRECOVERABLE: 11,
  RESOURCE_ACQUIRED: 12,
  VCHANNEL_NOT_EXIST: 100,
  VCHANNEL_DROPPED: 101,
  PARTITION_NOT_EXIST: 102,
  OUTCOME_UNKNOWN: 103,
  COORDINATOR_NOT_ACTIVE: 104,
  UNKNOWN: 999,
};

/**
 * Codes after which the same request may succeed: the channel moved or is moving (wait for a topology
 * with a newer term), the node is shutting down (go elsewhere), or a transient failure.
 */
const RETRIABLE: ReadonlySet<StreamingErrorCode> = new Set<StreamingErrorCode>([
  'CHANNEL_NOT_EXIST',
  'CHANNEL_FENCED',
  'ON_SHUTDOWN',
  'UNMATCHED_CHANNEL_TERM',
  'INNER',
  'RESOURCE_ACQUIRED',
  'COORDINATOR_NOT_ACTIVE',
]);

/** Codes that mean "this node does not (or no longer) own the pchannel": find the current owner. */
const WRONG_NODE: ReadonlySet<StreamingErrorCode> = new Set<StreamingErrorCode>([
  'CHANNEL_NOT_EXIST',
  'CHANNEL_FENCED',
  'UNMATCHED_CHANNEL_TERM',
  'ON_SHUTDOWN',
]);

const PREFIX = '[streaming] ';

/**
 * `message` without the `[streaming] ` prefix the StreamingError constructor adds; other text as is.
 * For rebuilding an error a peer sent as (code, message): the peer sent `error.message`, which already
 * carries the prefix, and passing it back to the constructor would double it.
 */
export function stripStreamingPrefix(message: string): string {
  return message.startsWith(PREFIX) ? message.slice(PREFIX.length) : message;
}

/** The error every layer above the backends raises and the client receives. */
export class StreamingError extends CodedError<StreamingErrorCode> {
  constructor(code: StreamingErrorCode, message: string, options?: CodedErrorOptions) {
    super('streaming', code, `${PREFIX}${message}`, RETRIABLE.has(code), options);
  }

  /** True when `e` is a StreamingError (from any copy of this package), optionally with `code`. */
  static is(e: unknown, code?: StreamingErrorCode): e is StreamingError {
    return isCodedError(e, 'streaming', code);
  }

  /** True for codes after which a client should wait for a newer topology and retry on the owner. */
  static isWrongNode(e: unknown): boolean {
    return StreamingError.is(e) && WRONG_NODE.has(e.code);
  }

  /** The code for a wire number; unknown numbers (a newer peer) map to UNKNOWN. */
  static codeOfNumber(n: number): StreamingErrorCode {
    for (const [code, num] of Object.entries(STREAMING_ERROR_NUMBERS)) if (num === n) return code as StreamingErrorCode;
    return 'UNKNOWN';
  }
}
