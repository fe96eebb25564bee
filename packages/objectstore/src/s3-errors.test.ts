import { ObjectStoreError } from './errors.js';
import type { ObjectStoreErrorCode } from './errors.js';
import { toObjectStoreError } from './s3-errors.js';

/** An error shaped like minio's S3Error: a class name plus the S3 code from the XML body. */
const s3Error = (code: string, message = 'from the server'): Error =>
  Object.assign(new Error(message), { name: 'S3Error', code, amzRequestid: 'req-1' });
/** A Node socket error. */
const sysError = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code });
/** One of minio's client-side error classes (no code, a telling name). */
const minioClassError = (name: string): Error => Object.assign(new Error('client-side check'), { name });

const cases: ReadonlyArray<readonly [string, unknown, ObjectStoreErrorCode, boolean]> = [
  ['NoSuchKey', s3Error('NoSuchKey'), 'NOT_FOUND', false],
  ['NotFound (bodiless 404 on HEAD)', s3Error('NotFound'), 'NOT_FOUND', false],
  ['a bare 404 status', { statusCode: 404, message: 'nope' }, 'NOT_FOUND', false],
  ['PreconditionFailed', s3Error('PreconditionFailed'), 'ALREADY_EXISTS', false],
  ['a bare 412 status', { statusCode: 412, message: 'precondition' }, 'ALREADY_EXISTS', false],
  ['AccessDenied', s3Error('AccessDenied'), 'ACCESS_DENIED', false],
  ['InvalidAccessKeyId', s3Error('InvalidAccessKeyId'), 'ACCESS_DENIED', false],
  ['SignatureDoesNotMatch', s3Error('SignatureDoesNotMatch'), 'ACCESS_DENIED', false],
  ['ExpiredToken', s3Error('ExpiredToken'), 'ACCESS_DENIED', false],
  ['RequestTimeTooSkewed', s3Error('RequestTimeTooSkewed'), 'ACCESS_DENIED', false],
  ['NoSuchBucket', s3Error('NoSuchBucket'), 'ACCESS_DENIED', false],
  ['a bare 403 status', { status: 403 }, 'ACCESS_DENIED', false],
  ['InternalError', s3Error('InternalError'), 'UNAVAILABLE', true],
  ['ServiceUnavailable', s3Error('ServiceUnavailable'), 'UNAVAILABLE', true],
  ['SlowDown', s3Error('SlowDown'), 'UNAVAILABLE', true],
  ['RequestTimeout', s3Error('RequestTimeout'), 'UNAVAILABLE', true],
  [
    'ConditionalRequestConflict (409 during a conditional write)',
    s3Error('ConditionalRequestConflict'),
    'UNAVAILABLE',
    true,
  ],
  [
    "minio's 'Retryable HTTP status: 503' error",
    new Error('Request failed after 0 retries: Error: Retryable HTTP status: 503'),
    'UNAVAILABLE',
    true,
  ],
  [
    "minio's 'Retryable HTTP status: 500' error",
    new Error('Request failed after 0 retries: Error: Retryable HTTP status: 500'),
    'UNAVAILABLE',
    true,
  ],
  [
    "minio's 'Retryable HTTP status: 429' error",
    new Error('Request failed after 0 retries: Error: Retryable HTTP status: 429'),
    'UNAVAILABLE',
    true,
  ],
  ['a bare 502 status', { statusCode: 502 }, 'UNAVAILABLE', true],
  ['ECONNREFUSED', sysError('ECONNREFUSED'), 'UNAVAILABLE', true],
  ['ETIMEDOUT', sysError('ETIMEDOUT'), 'UNAVAILABLE', true],
  ['ECONNRESET', sysError('ECONNRESET'), 'UNAVAILABLE', true],
  ['EPIPE', sysError('EPIPE'), 'UNAVAILABLE', true],
  ['EAI_AGAIN', sysError('EAI_AGAIN'), 'UNAVAILABLE', true],
  ['a TimeoutError', new DOMException('timed out', 'TimeoutError'), 'UNAVAILABLE', true],
  ['KeyTooLongError', s3Error('KeyTooLongError'), 'INVALID_KEY', false],
  ["minio's InvalidObjectNameError", minioClassError('InvalidObjectNameError'), 'INVALID_KEY', false],
  ['EntityTooLarge', s3Error('EntityTooLarge'), 'INVALID_ARGUMENT', false],
  ['InvalidArgument', s3Error('InvalidArgument'), 'INVALID_ARGUMENT', false],
  ['InvalidRange', s3Error('InvalidRange'), 'INVALID_ARGUMENT', false],
  ["minio's InvalidArgumentError", minioClassError('InvalidArgumentError'), 'INVALID_ARGUMENT', false],
  ["minio's InvalidBucketNameError", minioClassError('InvalidBucketNameError'), 'INVALID_ARGUMENT', false],
  ['NotImplemented', s3Error('NotImplemented'), 'UNSUPPORTED', false],
  ["MethodNotAllowed (minio's name for a bodiless 501)", s3Error('MethodNotAllowed'), 'UNSUPPORTED', false],
  ['an unknown S3 code', s3Error('SomethingNew'), 'INTERNAL', false],
  ['a plain Error', new Error('boom'), 'INTERNAL', false],
  ['a thrown string', 'weird', 'INTERNAL', false],
];

describe('toObjectStoreError', () => {
  it.each(cases)('translates %s', (_name, raw, code, retriable) => {
    const e = toObjectStoreError(raw, { op: 'get', key: 'a/b', bucket: 'bkt' });
    expect(ObjectStoreError.is(e, code)).toBe(true);
    expect(e.retriable).toBe(retriable);
    expect(e.cause).toBe(raw);
    expect(e.message).toContain('get "a/b"');
    expect(e.message).toContain('bucket bkt');
  });

  it('passes an ObjectStoreError through unchanged', () => {
    const original = ObjectStoreError.closed('get');
    expect(toObjectStoreError(original, { op: 'get' })).toBe(original);
  });

  it('keeps the S3 code, status and request id in details for logs', () => {
    const e = toObjectStoreError(s3Error('SlowDown'), { op: 'put', key: 'k', bucket: 'b' });
    expect(e.details).toMatchObject({ op: 'put', key: 'k', bucket: 'b', s3Code: 'SlowDown', requestId: 'req-1' });
    const status = toObjectStoreError(new Error('Retryable HTTP status: 503'), { op: 'put' });
    expect(status.details).toMatchObject({ status: 503 });
  });

  it('prefers the S3 code over the HTTP status', () => {
    // 409 BucketAlreadyOwnedByYou is not retriable; 409 ConditionalRequestConflict is.
    const e = toObjectStoreError(Object.assign(s3Error('NoSuchKey'), { statusCode: 500 }), { op: 'get' });
    expect(e.code).toBe('NOT_FOUND');
  });
});
