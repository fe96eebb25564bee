import type { CallOptions } from '@streamsvc/common';

/**
 * The ObjectStore port: immutable blobs addressed by key, the storage under the Woodpecker WAL and the
 * flusher's columnar files. Two adapters implement it: the local filesystem and S3 (minio client).
 * Both pass one conformance suite.
 *
 * Keys are `/`-separated relative paths of printable characters: no leading `/`, no `.` or `..`
 * segments, no empty segments, at most 1024 bytes. Anything else is rejected with INVALID_KEY.
 */
export interface ObjectStore extends AsyncDisposable {
  /** `'local'` or `'s3'`, for logs. Never branch on it. */
  readonly kind: string;

  /**
   * Stores `data` under `key`, replacing any existing object. Durable when it resolves (file and
   * directory fsynced; S3 PUT acknowledged). Readers see the old or the new object, never a mix.
   * Abort: the outcome is unknown.
   */
  put(key: string, data: Uint8Array, options?: PutObjectOptions): Promise<ObjectInfo>;

  /**
   * Stores `data` under `key` only if no object exists there. Among concurrent callers for one key
   * exactly one succeeds. This is what fences a stale WAL writer.
   * @throws {ObjectStoreError} ALREADY_EXISTS when the key exists (or another caller won the race).
   * Abort: the outcome is unknown.
   */
  putIfAbsent(key: string, data: Uint8Array, options?: PutObjectOptions): Promise<ObjectInfo>;

  /**
   * Reads a whole object.
   * @throws {ObjectStoreError} NOT_FOUND when the key does not exist.
   */
  get(key: string, options?: CallOptions): Promise<Uint8Array>;

  /**
   * Reads `length` bytes from `offset` (to the end when `length` is omitted). A range that starts past
   * the end yields an empty array; one that runs past the end is cut at the end.
   * @throws {ObjectStoreError} NOT_FOUND; INVALID_ARGUMENT for a negative offset or length.
   */
  getRange(key: string, range: ByteRange, options?: CallOptions): Promise<Uint8Array>;

  /** Size, etag and time of an object, or `undefined` when it does not exist. */
  head(key: string, options?: CallOptions): Promise<ObjectInfo | undefined>;

  /**
   * Lists objects whose key starts with `prefix`, in ascending key order, one page at a time
   * (continue with `startAfter` = the last key of the previous page while `more` is true).
   */
  list(prefix: string, options?: ListObjectsOptions): Promise<ObjectPage>;

  /** Deletes an object; deleting a missing key succeeds. Abort: the outcome is unknown. */
  delete(key: string, options?: CallOptions): Promise<void>;

  /** Releases connections and handles. Idempotent; returns the same promise twice. */
  close(): Promise<void>;
}

export interface PutObjectOptions extends CallOptions {
  /** Stored with the object where the backend supports it (S3), e.g. `application/vnd.apache.parquet`. */
  readonly contentType?: string;
}

export interface ByteRange {
  readonly offset: number;
  readonly length?: number;
}

export interface ListObjectsOptions extends CallOptions {
  /** Return keys strictly greater than this one. */
  readonly startAfter?: string;
  /** Page size, 1..1000. Default 1000. */
  readonly limit?: number;
}

export interface ObjectPage {
  readonly objects: readonly ObjectInfo[];
  /** True when more keys follow the last one of this page. */
  readonly more: boolean;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** An opaque content tag that changes when the object is replaced. */
  readonly etag: string;
  readonly lastModifiedMs: number;
}
