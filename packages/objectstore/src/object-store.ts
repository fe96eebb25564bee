import type { CallOptions } from '@streamsvc/common';

/**
 * The ObjectStore port: immutable blobs addressed by key, the storage under the Woodpecker WAL and the
 * flusher's columnar files. Two adapters implement it: the local filesystem and S3 (minio client).
 * Both pass one conformance suite.
 *
 * Keys are `/`-separated relative paths of printable characters: no leading `/`, no `.` or `..`
 * segments, no empty segments, at most 1024 bytes (UTF-8) in all and 255 bytes per segment (a file
 * name on the local adapter), and no segment starting with `.tmp~` (reserved for the adapters' own
 * temporary objects, which are never listed). Anything else is rejected with INVALID_KEY naming the key.
 *
 * Portable key sets never use a whole key as a directory of other keys (`a` together with `a/b`):
 * S3 stores both, the local adapter stores keys as paths and rejects the second with INVALID_KEY.
 *
 * Keys sort in UTF-8 byte order (S3's order), which {@link compareKeys} reproduces.
 *
 * Every call on a closed store rejects with CLOSED; every call whose signal is already aborted
 * rejects with the signal's reason and does nothing.
 */
export interface ObjectStore extends AsyncDisposable {
  /** `'local'` or `'s3'`, for logs. Never branch on it; use {@link ObjectStore.capabilities}. */
  readonly kind: string;

  /** What this store guarantees beyond the common contract. */
  readonly capabilities: ObjectStoreCapabilities;

  /** The largest object `put`/`putIfAbsent` accept; larger ones are rejected with INVALID_ARGUMENT. */
  readonly maxObjectBytes: number;

  /**
   * Stores `data` under `key`, replacing any existing object. Durable when it resolves (file and
   * directory fsynced; S3 PUT acknowledged). Readers see the old or the new object, never a mix.
   * @throws {ObjectStoreError} INVALID_KEY; INVALID_ARGUMENT when `data` exceeds `maxObjectBytes`;
   *   UNAVAILABLE (retriable) when the storage failed transiently — the outcome is then unknown.
   * Abort: the outcome is unknown.
   */
  put(key: string, data: Uint8Array, options?: PutObjectOptions): Promise<ObjectInfo>;

  /**
   * Stores `data` under `key` only if no object exists there. Among concurrent callers for one key
   * exactly one succeeds — when `capabilities.atomicPutIfAbsent` is true. This is what fences a stale
   * WAL writer.
   *
   * A retry after an unknown outcome (UNAVAILABLE, abort) may get ALREADY_EXISTS because the first
   * attempt won; compare the stored bytes (`get`) with yours to tell.
   * @throws {ObjectStoreError} ALREADY_EXISTS when the key exists (or another caller won the race);
   *   INVALID_KEY; INVALID_ARGUMENT when `data` exceeds `maxObjectBytes`; UNAVAILABLE (outcome unknown).
   * Abort: the outcome is unknown.
   */
  putIfAbsent(key: string, data: Uint8Array, options?: PutObjectOptions): Promise<ObjectInfo>;

  /**
   * Reads a whole object.
   * @throws {ObjectStoreError} NOT_FOUND when the key does not exist; INVALID_KEY.
   * Abort: the read stops; nothing changes.
   */
  get(key: string, options?: CallOptions): Promise<Uint8Array>;

  /**
   * Reads `length` bytes from `offset` (to the end when `length` is omitted). A range that starts past
   * the end yields an empty array; one that runs past the end is cut at the end.
   * @throws {ObjectStoreError} NOT_FOUND; INVALID_KEY; INVALID_ARGUMENT for a negative or fractional
   *   offset or length.
   * Abort: the read stops; nothing changes.
   */
  getRange(key: string, range: ByteRange, options?: CallOptions): Promise<Uint8Array>;

  /**
   * Size, etag and time of an object, or `undefined` when it does not exist.
   * @throws {ObjectStoreError} INVALID_KEY. Abort: nothing changes.
   */
  head(key: string, options?: CallOptions): Promise<ObjectInfo | undefined>;

  /**
   * Lists objects whose key starts with `prefix` (which may end inside a segment, e.g. `wal/seg-1`),
   * in ascending key order, one page at a time (continue with `startAfter` = the last key of the
   * previous page while `more` is true). Objects written or deleted while paging may or may not appear.
   * @throws {ObjectStoreError} INVALID_KEY when no valid key can start with `prefix`;
   *   INVALID_ARGUMENT for a `limit` outside 1..1000.
   * Abort: nothing changes.
   */
  list(prefix: string, options?: ListObjectsOptions): Promise<ObjectPage>;

  /**
   * Deletes an object; deleting a missing key succeeds. Durable when it resolves.
   * @throws {ObjectStoreError} INVALID_KEY. Abort: the outcome is unknown.
   */
  delete(key: string, options?: CallOptions): Promise<void>;

  /**
   * Waits for calls in flight, then releases connections and handles. Idempotent; returns the same
   * promise twice. Calls made after `close()` reject with CLOSED.
   */
  close(): Promise<void>;
}

/** Guarantees that differ between stores. Callers branch on these, never on `kind`. */
export interface ObjectStoreCapabilities {
  /**
   * True when `putIfAbsent` is atomic (exactly one of concurrent callers wins). False for an S3 store
   * opened with `requireConditionalWrites: false`, whose `putIfAbsent` is a best-effort head-then-put.
   */
  readonly atomicPutIfAbsent: boolean;
}

/** Options of `put` and `putIfAbsent`. */
export interface PutObjectOptions extends CallOptions {
  /** Stored with the object where the backend supports it (S3), e.g. `application/vnd.apache.parquet`. */
  readonly contentType?: string;
}

/** The bytes `getRange` reads. */
export interface ByteRange {
  /** First byte to read, an integer ≥ 0. */
  readonly offset: number;
  /** Bytes to read, an integer ≥ 0; omitted = to the end. */
  readonly length?: number;
}

/** Options of `list`. */
export interface ListObjectsOptions extends CallOptions {
  /** Return keys strictly greater than this one. */
  readonly startAfter?: string;
  /** Page size, 1..1000. Default 1000. */
  readonly limit?: number;
}

/** One page of a listing. */
export interface ObjectPage {
  readonly objects: readonly ObjectInfo[];
  /** True when more keys follow the last one of this page. */
  readonly more: boolean;
}

/** What a store knows about one object. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** An opaque content tag that changes when the object is replaced. */
  readonly etag: string;
  /**
   * When the object was written, in ms since the epoch. From `put`/`putIfAbsent` on S3 it is the
   * client's clock at acknowledgement (S3 does not return the server's time on PUT); elsewhere the
   * store's own time (S3: whole seconds).
   */
  readonly lastModifiedMs: number;
}
