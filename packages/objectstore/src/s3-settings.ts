import { noopLogger, systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';

import { ObjectStoreError, ObjectStoreErrorCode } from './errors.js';
import { checkMaxObjectBytes } from './guards.js';
import { isValidKey } from './keys.js';

/** Options of `S3ObjectStore.open`. */
export interface S3ObjectStoreOptions {
  /** `http(s)://host[:port]` of the S3 service. */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** Default `us-east-1`. */
  readonly region?: string;
  readonly bucket: string;
  /** Prepended to every key, e.g. `cluster-a/`: `''` or a valid key followed by `/`. Default `''`. */
  readonly prefix?: string;
  /** Create the bucket when it does not exist. Default false (a missing bucket is ACCESS_DENIED). */
  readonly createBucket?: boolean;
  /**
   * Probe the server on open and refuse (UNSUPPORTED) one that ignores `If-None-Match: *`, so that
   * `putIfAbsent` is atomic and can fence writers. Default true. With false, `putIfAbsent` is a
   * best-effort head-then-put (still sending the header) and `capabilities.atomicPutIfAbsent` is false.
   */
  readonly requireConditionalWrites?: boolean;
  /** Largest object accepted, sent as one PUT. Default 64 MiB, at most 5 GiB (S3's single-PUT limit). */
  readonly maxObjectBytes?: number;
  /** Each S3 request that takes longer fails with UNAVAILABLE (outcome unknown). Default 30 000. */
  readonly requestTimeoutMs?: number;
  /** Path-style URLs (`host/bucket/key`). Default true, what S3-compatible servers expect. */
  readonly pathStyle?: boolean;
  readonly logger?: Logger;
  /** Times request timeouts and stamps `lastModifiedMs` of put results. Default: the system clock. */
  readonly clock?: Clock;
}

/** S3's limit for one PUT; the store never uses multipart (see `MinioS3Api`). */
export const SINGLE_PUT_LIMIT = 5 * 1024 ** 3;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The S3 store's options, checked and with defaults applied. */
export interface S3Settings {
  readonly bucket: string;
  readonly region: string;
  readonly prefix: string;
  readonly requireConditionalWrites: boolean;
  readonly maxObjectBytes: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * Checks the S3 store options and applies defaults.
 * @throws {ObjectStoreError} INVALID_ARGUMENT naming the bad option.
 */
export function parseS3Settings(
  options: Omit<S3ObjectStoreOptions, 'endpoint' | 'accessKey' | 'secretKey'>,
): S3Settings {
  if (typeof options.bucket !== 'string' || options.bucket === '')
    throw invalidOption('bucket must be a non-empty string');
  const prefix = options.prefix ?? '';
  if (prefix !== '' && !(prefix.endsWith('/') && isValidKey(prefix.slice(0, -1)))) {
    throw invalidOption(`prefix must be '' or a valid key followed by '/', got ${JSON.stringify(prefix)}`);
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw invalidOption(`requestTimeoutMs must be a positive integer, got ${String(requestTimeoutMs)}`);
  }
  const logger = (options.logger ?? noopLogger).child({
    component: 'objectstore',
    store: 's3',
    bucket: options.bucket,
    prefix,
  });
  return {
    bucket: options.bucket,
    region: options.region ?? 'us-east-1',
    prefix,
    requireConditionalWrites: options.requireConditionalWrites ?? true,
    maxObjectBytes: checkMaxObjectBytes(options.maxObjectBytes, SINGLE_PUT_LIMIT),
    requestTimeoutMs,
    logger,
    clock: options.clock ?? systemClock,
  };
}

function invalidOption(message: string): ObjectStoreError {
  return new ObjectStoreError(ObjectStoreErrorCode.INVALID_ARGUMENT, message);
}
