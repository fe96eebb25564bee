import { ObjectStoreError, ObjectStoreErrorCode } from './errors.js';
import { showKey } from './keys.js';

/** What the S3 store was doing when the client failed. */
export interface S3ErrorContext {
  readonly op: string;
  /** The store key (without the store's prefix). */
  readonly key?: string | undefined;
  readonly bucket?: string | undefined;
}

const C = ObjectStoreErrorCode;

/**
 * S3 error codes (from the XML body, or synthesised by minio from a bodiless status), minio's
 * client-side error class names, and Node socket error codes.
 */
const CODE_BY_NAME: Readonly<Record<string, ObjectStoreErrorCode>> = {
  NoSuchKey: C.NOT_FOUND,
  NotFound: C.NOT_FOUND,
  PreconditionFailed: C.ALREADY_EXISTS,

  AccessDenied: C.ACCESS_DENIED,
  InvalidAccessKeyId: C.ACCESS_DENIED,
  SignatureDoesNotMatch: C.ACCESS_DENIED,
  AllAccessDisabled: C.ACCESS_DENIED,
  AccountProblem: C.ACCESS_DENIED,
  ExpiredToken: C.ACCESS_DENIED,
  InvalidToken: C.ACCESS_DENIED,
  InvalidSecurity: C.ACCESS_DENIED,
  NotSignedUp: C.ACCESS_DENIED,
  RequestTimeTooSkewed: C.ACCESS_DENIED,
  AuthorizationHeaderMalformed: C.ACCESS_DENIED,
  // A missing bucket on a data call is a configuration problem, like a bucket that is not ours.
  NoSuchBucket: C.ACCESS_DENIED,

  InternalError: C.UNAVAILABLE,
  ServiceUnavailable: C.UNAVAILABLE,
  SlowDown: C.UNAVAILABLE,
  RequestTimeout: C.UNAVAILABLE,
  Throttling: C.UNAVAILABLE,
  ThrottlingException: C.UNAVAILABLE,
  RequestLimitExceeded: C.UNAVAILABLE,
  TooManyRequests: C.UNAVAILABLE,
  OperationAborted: C.UNAVAILABLE,
  // AWS: a concurrent conditional write or delete raced this one; retrying resolves it (412 or success).
  ConditionalRequestConflict: C.UNAVAILABLE,
  ECONNREFUSED: C.UNAVAILABLE,
  ECONNRESET: C.UNAVAILABLE,
  ECONNABORTED: C.UNAVAILABLE,
  ETIMEDOUT: C.UNAVAILABLE,
  ESOCKETTIMEDOUT: C.UNAVAILABLE,
  EPIPE: C.UNAVAILABLE,
  EHOSTUNREACH: C.UNAVAILABLE,
  ENETUNREACH: C.UNAVAILABLE,
  ENETDOWN: C.UNAVAILABLE,
  EAI_AGAIN: C.UNAVAILABLE,
  ENOTFOUND: C.UNAVAILABLE,
  ERR_STREAM_PREMATURE_CLOSE: C.UNAVAILABLE,
  UND_ERR_SOCKET: C.UNAVAILABLE,
  TimeoutError: C.UNAVAILABLE,

  InvalidObjectName: C.INVALID_KEY,
  InvalidObjectNameError: C.INVALID_KEY,
  KeyTooLongError: C.INVALID_KEY,

  InvalidArgument: C.INVALID_ARGUMENT,
  InvalidArgumentError: C.INVALID_ARGUMENT,
  InvalidRange: C.INVALID_ARGUMENT,
  EntityTooLarge: C.INVALID_ARGUMENT,
  EntityTooSmall: C.INVALID_ARGUMENT,
  MetadataTooLarge: C.INVALID_ARGUMENT,
  InvalidBucketName: C.INVALID_ARGUMENT,
  InvalidBucketNameError: C.INVALID_ARGUMENT,
  InvalidEndpointError: C.INVALID_ARGUMENT,
  InvalidPortError: C.INVALID_ARGUMENT,

  NotImplemented: C.UNSUPPORTED,
  // minio reports a bodiless 501 as MethodNotAllowed.
  MethodNotAllowed: C.UNSUPPORTED,
};

function codeByStatus(status: number): ObjectStoreErrorCode | undefined {
  if (status === 404) return C.NOT_FOUND;
  if (status === 412) return C.ALREADY_EXISTS;
  if (status === 401 || status === 403) return C.ACCESS_DENIED;
  if (status === 408 || status === 429 || status === 499 || status >= 500) return C.UNAVAILABLE;
  if (status === 416) return C.INVALID_ARGUMENT;
  return undefined;
}

const prop = (e: unknown, name: string): unknown =>
  typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[name] : undefined;

/** The HTTP status an error carries: a `statusCode`/`status` field, or minio's `Retryable HTTP status: NNN`. */
function statusOf(e: unknown): number | undefined {
  for (const name of ['statusCode', 'status']) {
    const v = prop(e, name);
    if (typeof v === 'number') return v;
  }
  // minio 8.0.7 throws a plain Error with only this message for 408/429/499/5xx (request.ts).
  const m = /Retryable HTTP status: (\d{3})/.exec(String(prop(e, 'message') ?? ''));
  return m ? Number(m[1]) : undefined;
}

/** The S3 (or Node) error code of a client error, e.g. `NoSuchKey`, `ECONNREFUSED`. */
export function s3CodeOf(e: unknown): string | undefined {
  const code = prop(e, 'code');
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/**
 * Translates an error from the S3 client (minio's S3Error with an S3 `code`, minio's client-side
 * error classes, Node socket errors, or a bare HTTP status) into an {@link ObjectStoreError}, the one
 * place this happens for the S3 adapter. An ObjectStoreError passes through unchanged; anything
 * unrecognised becomes INTERNAL with the original as `cause`.
 */
export function toObjectStoreError(e: unknown, ctx: S3ErrorContext): ObjectStoreError {
  if (ObjectStoreError.is(e)) return e;
  const s3Code = s3CodeOf(e);
  const name = prop(e, 'name');
  const status = statusOf(e);
  const code =
    (s3Code !== undefined ? CODE_BY_NAME[s3Code] : undefined) ??
    (typeof name === 'string' ? CODE_BY_NAME[name] : undefined) ??
    (status !== undefined ? codeByStatus(status) : undefined) ??
    C.INTERNAL;
  const what = ctx.key === undefined ? ctx.op : `${ctx.op} ${showKey(ctx.key)}`;
  const message = String(prop(e, 'message') ?? e);
  const reason =
    code === C.ALREADY_EXISTS
      ? 'the key exists'
      : `${s3Code ?? (typeof name === 'string' ? name : 'error')}: ${message}`;
  return new ObjectStoreError(code, `${what}${ctx.bucket ? ` (bucket ${ctx.bucket})` : ''}: ${reason}`, {
    cause: e,
    details: { op: ctx.op, key: ctx.key, bucket: ctx.bucket, s3Code, status, requestId: prop(e, 'amzRequestid') },
  });
}
