import { isAbortError } from '@streamsvc/common';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

/** Where an error happened, for its message: `append on pchannel "x"`, `read of topic "t"`, ... */
export type ErrorContext = string;

interface Translation {
  readonly code: WalErrorCode;
  /** Overrides the code's default retriability (UNAVAILABLE is retriable unless this says no). */
  readonly retriable?: boolean;
  /** Added to the message: what the operator or caller should know. */
  readonly hint?: string;
}

const RETRY: Translation = { code: WalErrorCode.UNAVAILABLE };

/**
 * Broker error codes (KafkaJSProtocolError `type`, from the Kafka protocol's error table) that this
 * backend can meet. Anything not listed becomes a non-retriable UNAVAILABLE keeping its cause.
 */
export const PROTOCOL_ERRORS: Readonly<Record<string, Translation>> = {
  // The partition moved or the cluster is electing: metadata refresh and retry fix these.
  NOT_LEADER_FOR_PARTITION: RETRY,
  LEADER_NOT_AVAILABLE: RETRY,
  REPLICA_NOT_AVAILABLE: RETRY,
  BROKER_NOT_AVAILABLE: RETRY,
  NOT_ENOUGH_REPLICAS: RETRY,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: RETRY,
  REQUEST_TIMED_OUT: RETRY,
  NETWORK_EXCEPTION: RETRY,
  NOT_CONTROLLER: RETRY,
  COORDINATOR_NOT_AVAILABLE: RETRY,
  NOT_COORDINATOR: RETRY,
  COORDINATOR_LOAD_IN_PROGRESS: RETRY,
  CONCURRENT_TRANSACTIONS: RETRY,
  KAFKA_STORAGE_ERROR: RETRY,
  FENCED_LEADER_EPOCH: RETRY,
  UNKNOWN_LEADER_EPOCH: RETRY,
  OFFSET_NOT_AVAILABLE: RETRY,
  THROTTLING_QUOTA_EXCEEDED: RETRY,
  // A batch whose CRC the broker rejected was damaged in transit: resending it is the fix.
  CORRUPT_MESSAGE: RETRY,
  UNKNOWN_TOPIC_OR_PARTITION: {
    code: WalErrorCode.UNAVAILABLE,
    retriable: false,
    hint: 'the topic does not exist (create it, or allow auto-creation)',
  },
  INVALID_TOPIC_EXCEPTION: { code: WalErrorCode.INVALID_ARGUMENT, hint: 'not a valid Kafka topic name' },
  MESSAGE_TOO_LARGE: {
    code: WalErrorCode.INVALID_ARGUMENT,
    hint: "the record exceeds the broker's message.max.bytes; lower maxMessageBytes to match it",
  },
  RECORD_LIST_TOO_LARGE: {
    code: WalErrorCode.INVALID_ARGUMENT,
    hint: "the batch exceeds the broker's limit; lower maxBatchBytes",
  },
  INVALID_RECORD: { code: WalErrorCode.INVALID_ARGUMENT },
  OFFSET_OUT_OF_RANGE: { code: WalErrorCode.INVALID_MESSAGE_ID, hint: 'the offset is not in the partition' },
  // A newer producer with the same transactional id started: the producer epoch moved past ours.
  INVALID_PRODUCER_EPOCH: { code: WalErrorCode.FENCED, hint: 'a newer writer took the pchannel over' },
  PRODUCER_FENCED: { code: WalErrorCode.FENCED, hint: 'a newer writer took the pchannel over' },
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  TOPIC_AUTHORIZATION_FAILED: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  CLUSTER_AUTHORIZATION_FAILED: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  SASL_AUTHENTICATION_FAILED: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  UNSUPPORTED_VERSION: {
    code: WalErrorCode.UNAVAILABLE,
    retriable: false,
    hint: 'the broker does not support a request this backend needs',
  },
  INVALID_TXN_STATE: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  INVALID_REQUIRED_ACKS: { code: WalErrorCode.INVALID_CONFIG },
};

/**
 * Broker error codes newer than kafkajs 2.2.4, which reports them as `KAFKASERVER_UNKNOWN_ERROR` and
 * keeps only the number.
 */
export const PROTOCOL_CODES: Readonly<Record<number, string>> = {
  90: 'PRODUCER_FENCED',
};

/** Client-side kafkajs errors by class name (`e.name`). */
export const CLIENT_ERRORS: Readonly<Record<string, Translation>> = {
  KafkaJSConnectionError: RETRY,
  KafkaJSConnectionClosedError: RETRY,
  KafkaJSRequestTimeoutError: RETRY,
  KafkaJSBrokerNotFound: RETRY,
  KafkaJSMetadataNotLoaded: RETRY,
  KafkaJSTopicMetadataNotLoaded: RETRY,
  KafkaJSStaleTopicMetadataAssignment: RETRY,
  KafkaJSNoBrokerAvailableError: RETRY,
  KafkaJSLockTimeout: RETRY,
  KafkaJSTimeout: RETRY,
  KafkaJSOffsetOutOfRange: { code: WalErrorCode.INVALID_MESSAGE_ID, hint: 'the offset is not in the partition' },
  KafkaJSServerDoesNotSupportApiKey: {
    code: WalErrorCode.UNAVAILABLE,
    retriable: false,
    hint: 'the broker does not support a request this backend needs',
  },
  KafkaJSSASLAuthenticationError: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  KafkaJSNotImplemented: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  KafkaJSPartialMessageError: { code: WalErrorCode.CORRUPT },
  KafkaJSUnsupportedMagicByteInMessageSet: { code: WalErrorCode.CORRUPT },
  KafkaJSInvalidVarIntError: { code: WalErrorCode.CORRUPT },
  KafkaJSInvalidLongError: { code: WalErrorCode.CORRUPT },
};

// Node's socket errno codes, for errors that escape kafkajs unwrapped.
const ERRNO_RETRY = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

interface KafkaLikeError {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
}

/**
 * Translates anything kafkajs (or the broker through it) threw into a {@link WalError}, once, at the
 * adapter. WalErrors and abort errors pass through unchanged (an abort keeps the caller's reason, as
 * the SPI requires). `KafkaJSNumberOfRetriesExceeded` — kafkajs giving up its own retries — is judged
 * by the error that caused it. Unknown errors become a non-retriable UNAVAILABLE that keeps the cause.
 * Works on the shape of the error (name, protocol `type`, numeric `code`), not on `instanceof`, so a
 * second copy of kafkajs in the process changes nothing.
 */
export function toWalError(e: unknown, context: ErrorContext): Error {
  if (WalError.is(e)) return e;
  // Returned as it is even when it is not an Error of this realm (a DOMException from jest's).
  if (isAbortError(e)) return e as Error;
  const root = rootCause(e);
  // The adapter's own errors thrown inside kafkajs's retrier come back wrapped: unwrap, keep as they are.
  if (WalError.is(root)) return root;
  const translation = translate(root) ?? translate(e) ?? { code: WalErrorCode.UNAVAILABLE, retriable: false };
  const why = describe(root);
  const hint = translation.hint === undefined ? '' : ` (${translation.hint})`;
  return new WalError(translation.code, `${context}: ${why}${hint}`, {
    cause: e,
    ...(translation.retriable === undefined ? {} : { retriable: translation.retriable }),
  });
}

function translate(e: unknown): Translation | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const k = e as KafkaLikeError;
  if (k.name === 'KafkaJSProtocolError' || typeof k.type === 'string') {
    const type = typeof k.type === 'string' ? k.type : undefined;
    const byType = type === undefined ? undefined : PROTOCOL_ERRORS[type];
    if (byType !== undefined) return byType;
    const byCode = typeof k.code === 'number' ? PROTOCOL_CODES[k.code] : undefined;
    if (byCode !== undefined) return PROTOCOL_ERRORS[byCode];
  }
  if (typeof k.name === 'string') {
    const byName = CLIENT_ERRORS[k.name];
    if (byName !== undefined) return byName;
  }
  if (typeof k.code === 'string' && ERRNO_RETRY.has(k.code)) return RETRY;
  return undefined;
}

// kafkajs wraps the last failure of its retry loop (KafkaJSNumberOfRetriesExceeded, itself marked not
// retriable) and some connection errors; what went wrong is at the bottom of the chain. Bounded: a
// cyclic chain must not hang the translation.
function rootCause(e: unknown): unknown {
  let current = e;
  for (let depth = 0; depth < 8; depth++) {
    if (typeof current !== 'object' || current === null) return current;
    const k = current as KafkaLikeError;
    const wrapper = k.name === 'KafkaJSNumberOfRetriesExceeded' || k.name === 'KafkaJSNonRetriableError';
    if (!wrapper || k.cause === undefined || k.cause === current) return current;
    current = k.cause;
  }
  return current;
}

function describe(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const k = e as KafkaLikeError;
    const message = typeof k.message === 'string' ? k.message : String(e);
    const type = typeof k.type === 'string' ? `${k.type}: ` : '';
    return `${type}${message}`;
  }
  return String(e);
}
