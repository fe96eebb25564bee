import type { CallOptions } from '@streamsvc/common';
import { compareKeys, ObjectStoreError, ObjectStoreErrorCode } from '@streamsvc/objectstore';
import type {
  ByteRange,
  ListObjectsOptions,
  ObjectInfo,
  ObjectPage,
  ObjectStore,
  ObjectStoreCapabilities,
} from '@streamsvc/objectstore';

/** How the stand-in behaves like S3 (MinIO-like numbers by default, performance.md G14). */
export interface StandInOptions {
  /** Median PUT latency (server processing + round trip), ms. */
  readonly putLatencyP50Ms: number;
  /** 99th percentile of that latency, ms (log-normal between the two). */
  readonly putLatencyP99Ms: number;
  /** The link's bandwidth, bytes per second, shared by all uploads in flight (transfers are serialised). */
  readonly bandwidthBytesPerSec: number;
}

/**
 * An in-process S3 stand-in implementing the ObjectStore port: conditional puts are atomic, every
 * PUT waits for its bytes to cross a shared link of fixed bandwidth (one transfer at a time, so
 * parallel uploads share it as on a NIC) and then a log-normal latency. Reads are instant: the
 * benchmark measures the write path. Records each PUT's duration for the latency goal.
 */
export class S3StandIn implements ObjectStore {
  readonly kind = 's3-standin';
  readonly capabilities: ObjectStoreCapabilities = { atomicPutIfAbsent: true };
  readonly maxObjectBytes = 64 * 1024 * 1024;
  readonly putDurationsMs: number[] = [];
  bytesPut = 0;
  readonly #options: StandInOptions;
  readonly #objects = new Map<string, Uint8Array>();
  #linkFreeAt = 0;

  constructor(options: StandInOptions) {
    this.#options = options;
  }

  async put(key: string, data: Uint8Array): Promise<ObjectInfo> {
    await this.#transfer(data.byteLength);
    this.#objects.set(key, Uint8Array.from(data));
    return this.#info(key);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<ObjectInfo> {
    await this.#transfer(data.byteLength);
    // Checked when the upload completes, as S3 does: of concurrent uploads, the first to land wins.
    if (this.#objects.has(key)) throw new ObjectStoreError(ObjectStoreErrorCode.ALREADY_EXISTS, `${key} exists`);
    this.#objects.set(key, Uint8Array.from(data));
    return this.#info(key);
  }

  async get(key: string): Promise<Uint8Array> {
    const data = this.#objects.get(key);
    if (data === undefined) throw new ObjectStoreError(ObjectStoreErrorCode.NOT_FOUND, `${key} not found`);
    return data;
  }

  async getRange(key: string, range: ByteRange): Promise<Uint8Array> {
    const data = await this.get(key);
    return data.subarray(range.offset, range.length === undefined ? undefined : range.offset + range.length);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    return this.#objects.has(key) ? this.#info(key) : undefined;
  }

  async list(prefix: string, options?: ListObjectsOptions): Promise<ObjectPage> {
    const keys = [...this.#objects.keys()]
      .filter(
        (k) => k.startsWith(prefix) && (options?.startAfter === undefined || compareKeys(k, options.startAfter) > 0),
      )
      .sort(compareKeys);
    const limit = options?.limit ?? 1000;
    return { objects: keys.slice(0, limit).map((k) => this.#info(k)), more: keys.length > limit };
  }

  async delete(key: string, _options?: CallOptions): Promise<void> {
    this.#objects.delete(key);
  }

  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {}

  async #transfer(bytes: number): Promise<void> {
    const started = performance.now();
    const transferMs = (bytes / this.#options.bandwidthBytesPerSec) * 1000;
    const transferStart = Math.max(started, this.#linkFreeAt);
    this.#linkFreeAt = transferStart + transferMs;
    const done = this.#linkFreeAt + this.#latencyMs();
    await new Promise((r) => setTimeout(r, Math.max(0, done - performance.now())));
    this.bytesPut += bytes;
    this.putDurationsMs.push(performance.now() - started);
  }

  // Log-normal: median p50, and p99 = p50 · e^(2.326 σ).
  #latencyMs(): number {
    const { putLatencyP50Ms: p50, putLatencyP99Ms: p99 } = this.#options;
    const sigma = Math.log(p99 / p50) / 2.326;
    const u = 1 - Math.random();
    const v = Math.random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return p50 * Math.exp(sigma * normal);
  }

  #info(key: string): ObjectInfo {
    return { key, size: this.#objects.get(key)?.byteLength ?? 0, etag: key, lastModifiedMs: Date.now() };
  }
}
