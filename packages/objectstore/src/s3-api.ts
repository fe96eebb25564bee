/**
 * The few S3 calls the S3 store needs, in the store's terms. {@link MinioS3Api} implements it over the
 * minio client (the only file importing minio); unit tests implement it in memory. Keys are full
 * object names inside the bucket (the store's prefix already applied). Methods reject with the
 * client's native errors (an S3 `code` such as `NoSuchKey`, or a Node `code` such as `ECONNREFUSED`);
 * the store translates them once with `toObjectStoreError`. A `signal` abort cancels the HTTP request.
 */
export interface S3Api {
  bucketExists(signal?: AbortSignal): Promise<boolean>;
  makeBucket(signal?: AbortSignal): Promise<void>;
  /** One PUT. With `ifNoneMatch` it sends `If-None-Match: *` (412 PreconditionFailed when the key exists). */
  putObject(key: string, data: Uint8Array, options: S3PutOptions): Promise<{ readonly etag: string }>;
  /** GET, whole or `bytes=offset-[offset+length-1]`; a range past the end rejects with `InvalidRange`. */
  getObject(key: string, range: S3Range | undefined, signal?: AbortSignal): Promise<Uint8Array>;
  /** HEAD; a missing key rejects with `NotFound`. */
  statObject(key: string, signal?: AbortSignal): Promise<S3ObjectStat>;
  /** One ListObjectsV2 page: keys starting with `prefix`, greater than `startAfter`, at most `maxKeys` (≤ 1000). */
  listObjects(
    prefix: string,
    startAfter: string | undefined,
    maxKeys: number,
    signal?: AbortSignal,
  ): Promise<S3ListPage>;
  /** DELETE; succeeds for a missing key. */
  removeObject(key: string, signal?: AbortSignal): Promise<void>;
  /** Drops pooled connections. */
  close(): void;
}

/** Options of {@link S3Api.putObject}. */
export interface S3PutOptions {
  readonly contentType?: string | undefined;
  readonly ifNoneMatch?: boolean;
  readonly signal?: AbortSignal | undefined;
}

/** A byte range of {@link S3Api.getObject}. */
export interface S3Range {
  readonly offset: number;
  /** Positive; omitted = to the end. */
  readonly length?: number | undefined;
}

/** What HEAD reports about an object. */
export interface S3ObjectStat {
  readonly size: number;
  readonly etag: string;
  readonly lastModifiedMs: number;
}

/** One entry of a listing page. */
export interface S3ListedObject extends S3ObjectStat {
  readonly key: string;
}

/** One ListObjectsV2 page. */
export interface S3ListPage {
  readonly objects: readonly S3ListedObject[];
  /** The server's IsTruncated: more keys follow. */
  readonly truncated: boolean;
}
