import { randomBytes } from 'node:crypto';

import { CloseOnce, abortReason, raceAbort } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';

import { ObjectStoreError, ObjectStoreErrorCode } from './errors.js';
import { CallGate, checkData, checkLimit, checkRange } from './guards.js';
import { RESERVED_SEGMENT_PREFIX, checkKey, checkPrefix, isValidKey, showKey } from './keys.js';
import { parseS3Settings } from './s3-settings.js';
import type { S3ObjectStoreOptions, S3Settings } from './s3-settings.js';
import type {
  ByteRange,
  ListObjectsOptions,
  ObjectInfo,
  ObjectPage,
  ObjectStore,
  ObjectStoreCapabilities,
  PutObjectOptions,
} from './object-store.js';
import type { S3Api } from './s3-api.js';
import { s3CodeOf, toObjectStoreError } from './s3-errors.js';

// What getObject answers for a range that starts at or past the end (S3 InvalidRange, 416).
const RANGE_PAST_END = Symbol('range past end');

/**
 * The ObjectStore on S3 (any S3-compatible service), through the minio client. Objects are stored
 * under `prefix + key` in one bucket, each written with a single PUT.
 *
 * `putIfAbsent` sends `If-None-Match: *`, which AWS S3 (since August 2024) and moto honour with 412.
 * s3rver (and possibly other S3-compatible servers) ignore it and overwrite; `open` detects that with a probe and refuses
 * such a server unless `requireConditionalWrites` is false.
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3';
  readonly capabilities: ObjectStoreCapabilities;
  readonly maxObjectBytes: number;
  readonly bucket: string;
  /** What every key is prefixed with inside the bucket. */
  readonly prefix: string;
  readonly #api: S3Api;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #requestTimeoutMs: number;
  readonly #gate = new CallGate();
  readonly #closeOnce = new CloseOnce();

  private constructor(api: S3Api, settings: S3Settings) {
    this.#api = api;
    this.bucket = settings.bucket;
    this.prefix = settings.prefix;
    this.maxObjectBytes = settings.maxObjectBytes;
    this.capabilities = { atomicPutIfAbsent: settings.requireConditionalWrites };
    this.#requestTimeoutMs = settings.requestTimeoutMs;
    this.#clock = settings.clock;
    this.#log = settings.logger;
  }

  /**
   * Connects, checks (or creates) the bucket and, unless `requireConditionalWrites` is false, probes
   * that the server honours `If-None-Match: *` by writing a reserved probe key twice and deleting it.
   * @throws {ObjectStoreError} INVALID_ARGUMENT for bad options; ACCESS_DENIED for refused
   *   credentials or a missing bucket; UNSUPPORTED when the server ignores conditional writes;
   *   UNAVAILABLE when the server cannot be reached. Abort: rejects with the reason; nothing stays open.
   */
  static async open(options: S3ObjectStoreOptions, callOptions: CallOptions = {}): Promise<S3ObjectStore> {
    const settings = parseS3Settings(options);
    // Loaded here, not with the package: minio and its XML parser cost a process that never talks to S3
    // (Woodpecker in local mode, the default) ~8 MB of heap and ~25 MB of resident memory.
    const { MinioS3Api } = await import('./minio-s3-api.js');
    let api: S3Api;
    try {
      api = MinioS3Api.create({
        endpoint: options.endpoint,
        accessKey: options.accessKey,
        secretKey: options.secretKey,
        region: settings.region,
        bucket: settings.bucket,
        pathStyle: options.pathStyle ?? true,
      });
    } catch (e) {
      throw new ObjectStoreError(
        ObjectStoreErrorCode.INVALID_ARGUMENT,
        `bad S3 endpoint ${options.endpoint}: ${String(e)}`,
        { cause: e },
      );
    }
    return S3ObjectStore.openWith(api, options, callOptions);
  }

  /**
   * {@link S3ObjectStore.open} on a given {@link S3Api} (an in-memory fake in tests, or another
   * client). Connection fields of `options` are ignored. On failure the api is closed.
   */
  static async openWith(
    api: S3Api,
    options: Omit<S3ObjectStoreOptions, 'endpoint' | 'accessKey' | 'secretKey'>,
    callOptions: CallOptions = {},
  ): Promise<S3ObjectStore> {
    let store: S3ObjectStore;
    try {
      store = new S3ObjectStore(api, parseS3Settings(options));
    } catch (e) {
      api.close();
      throw e;
    }
    const atomic = store.capabilities.atomicPutIfAbsent;
    try {
      await store.#ensureBucket(options.createBucket ?? false, callOptions.signal);
      if (atomic) await store.#probeConditionalWrites(callOptions.signal);
      else store.#log.warn('requireConditionalWrites is false: putIfAbsent is best-effort and cannot fence writers');
    } catch (e) {
      api.close();
      throw e;
    }
    store.#log.debug({ maxObjectBytes: store.maxObjectBytes, atomicPutIfAbsent: atomic }, 'opened');
    return store;
  }

  async #ensureBucket(create: boolean, signal: AbortSignal | undefined): Promise<void> {
    if (await this.#call('open', undefined, signal, (s) => this.#api.bucketExists(s))) return;
    if (!create) {
      throw new ObjectStoreError(
        ObjectStoreErrorCode.ACCESS_DENIED,
        `bucket ${this.bucket} does not exist (set createBucket to create it)`,
        {
          details: { bucket: this.bucket },
        },
      );
    }
    await this.#call('open', undefined, signal, async (s) => {
      try {
        await this.#api.makeBucket(s);
      } catch (e) {
        // Someone (maybe another node of ours) created it between the check and now.
        const code = s3CodeOf(e);
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw e;
      }
    });
    this.#log.info({ bucket: this.bucket }, 'created bucket');
  }

  async #probeConditionalWrites(signal: AbortSignal | undefined): Promise<void> {
    // A reserved name: never listed, never writable through the store, harmless if a crash leaves it.
    const probe = `${this.prefix}${RESERVED_SEGMENT_PREFIX}probe-${randomBytes(8).toString('hex')}`;
    const body = new TextEncoder().encode('streamsvc conditional-write probe');
    const write = (): Promise<unknown> =>
      this.#call('open', probe, signal, (s) => this.#api.putObject(probe, body, { ifNoneMatch: true, signal: s }));
    let honoured = false;
    try {
      await write();
      await write().catch((e: unknown) => {
        if (!ObjectStoreError.is(e, ObjectStoreErrorCode.ALREADY_EXISTS)) throw e;
        honoured = true;
      });
    } finally {
      await this.#call('open', probe, undefined, (s) => this.#api.removeObject(probe, s)).catch((e: unknown) =>
        this.#log.warn({ err: e, probe }, 'could not delete the probe object'),
      );
    }
    if (!honoured) {
      throw new ObjectStoreError(
        ObjectStoreErrorCode.UNSUPPORTED,
        'server ignores If-None-Match; putIfAbsent cannot fence writers (open with requireConditionalWrites: false to accept a best-effort putIfAbsent)',
        { details: { bucket: this.bucket } },
      );
    }
  }

  /**
   * Runs one S3 request under the caller's signal and the request timeout, translating errors: the
   * caller's abort rejects with its reason, the timeout with UNAVAILABLE, the rest via toObjectStoreError.
   */
  async #call<T>(
    op: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    signal?.throwIfAborted();
    // One controller per request, aborted by the caller's signal or by the timeout. The timeout runs
    // on the injected clock (unit tests advance it by hand); the listener and the sleep are removed
    // when the call settles, so a long-lived caller signal collects nothing and no timer outlives
    // the request (AbortSignal.any would hold both until garbage collection).
    const request = new AbortController();
    const settled = new AbortController();
    let timedOut = false;
    const ms = this.#requestTimeoutMs;
    void this.#clock.sleep(ms, { signal: settled.signal }).then(
      () => {
        timedOut = true;
        request.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError'));
      },
      () => {},
    );
    const onAbort = (): void => request.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await raceAbort(fn(request.signal), request.signal);
    } catch (e) {
      if (signal?.aborted) throw abortReason(signal);
      if (timedOut) {
        throw new ObjectStoreError(
          ObjectStoreErrorCode.UNAVAILABLE,
          `${op}${key === undefined ? '' : ` ${showKey(key)}`}: no answer within ${ms} ms`,
          { cause: e, details: { op, key, bucket: this.bucket } },
        );
      }
      throw toObjectStoreError(e, { op, key, bucket: this.bucket });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      settled.abort();
    }
  }

  put(key: string, data: Uint8Array, options: PutObjectOptions = {}): Promise<ObjectInfo> {
    return this.#gate.run('put', options.signal, () => this.#put('put', key, data, options));
  }

  /**
   * See {@link ObjectStore.putIfAbsent}. When `capabilities.atomicPutIfAbsent` is false (opened with
   * `requireConditionalWrites: false`) this is best-effort: it checks with HEAD, then PUTs with
   * `If-None-Match: *`; on a server that ignores the header two racing callers can both succeed and
   * the later write wins.
   */
  putIfAbsent(key: string, data: Uint8Array, options: PutObjectOptions = {}): Promise<ObjectInfo> {
    return this.#gate.run('putIfAbsent', options.signal, async () => {
      checkKey(key);
      checkData(key, data, this.maxObjectBytes);
      if (
        !this.capabilities.atomicPutIfAbsent &&
        (await this.#stat('putIfAbsent', key, options.signal)) !== undefined
      ) {
        throw new ObjectStoreError(ObjectStoreErrorCode.ALREADY_EXISTS, `putIfAbsent ${showKey(key)}: the key exists`, {
          details: { key },
        });
      }
      return this.#put('putIfAbsent', key, data, options);
    });
  }

  async #put(op: 'put' | 'putIfAbsent', key: string, data: Uint8Array, options: PutObjectOptions): Promise<ObjectInfo> {
    checkKey(key);
    checkData(key, data, this.maxObjectBytes);
    const { etag } = await this.#call(op, key, options.signal, (s) =>
      this.#api.putObject(this.prefix + key, data, {
        contentType: options.contentType,
        ifNoneMatch: op === 'putIfAbsent',
        signal: s,
      }),
    );
    return { key, size: data.byteLength, etag, lastModifiedMs: this.#clock.nowMs() };
  }

  get(key: string, options: CallOptions = {}): Promise<Uint8Array> {
    return this.#gate.run('get', options.signal, async () => {
      checkKey(key);
      return this.#call('get', key, options.signal, (s) => this.#api.getObject(this.prefix + key, undefined, s));
    });
  }

  getRange(key: string, range: ByteRange, options: CallOptions = {}): Promise<Uint8Array> {
    const { signal } = options;
    return this.#gate.run('getRange', signal, async () => {
      checkKey(key);
      checkRange(range);
      if (range.length !== 0) {
        const bytes = await this.#call('getRange', key, signal, async (s) => {
          try {
            return await this.#api.getObject(this.prefix + key, range, s);
          } catch (e) {
            if (s3CodeOf(e) === 'InvalidRange') return RANGE_PAST_END;
            throw e;
          }
        });
        if (bytes !== RANGE_PAST_END) return bytes;
      }
      // An empty range, or one S3 refused (416) because it starts at or past the end: the answer is
      // empty if the object exists.
      if ((await this.#stat('getRange', key, signal)) === undefined) {
        throw new ObjectStoreError(ObjectStoreErrorCode.NOT_FOUND, `getRange ${showKey(key)}: no such object`, {
          details: { key },
        });
      }
      return new Uint8Array(0);
    });
  }

  head(key: string, options: CallOptions = {}): Promise<ObjectInfo | undefined> {
    return this.#gate.run('head', options.signal, async () => {
      checkKey(key);
      const st = await this.#stat('head', key, options.signal);
      return st && { key, ...st };
    });
  }

  #stat(op: string, key: string, signal: AbortSignal | undefined): Promise<Omit<ObjectInfo, 'key'> | undefined> {
    return this.#call(op, key, signal, async (s) => {
      try {
        return await this.#api.statObject(this.prefix + key, s);
      } catch (e) {
        const code = s3CodeOf(e);
        if (code === 'NotFound' || code === 'NoSuchKey') return undefined;
        throw e;
      }
    });
  }

  list(prefix: string, options: ListObjectsOptions = {}): Promise<ObjectPage> {
    const { signal } = options;
    return this.#gate.run('list', signal, async () => {
      checkPrefix(prefix);
      const limit = checkLimit(options.limit);
      const objects: ObjectInfo[] = [];
      let after = options.startAfter === undefined ? undefined : this.prefix + options.startAfter;
      // Ask for one more key than the page holds, to know whether more follow; keep asking while
      // hidden keys (reserved or invalid names) ate into a page. Each round moves `after` forward.
      for (;;) {
        const want = Math.min(1000, limit + 1 - objects.length);
        const page = await this.#call('list', undefined, signal, (s) =>
          this.#api.listObjects(this.prefix + prefix, after, want, s),
        );
        for (const o of page.objects) {
          after = o.key;
          const key = o.key.slice(this.prefix.length);
          if (o.key.startsWith(this.prefix) && isValidKey(key))
            objects.push({ key, size: o.size, etag: o.etag, lastModifiedMs: o.lastModifiedMs });
        }
        if (objects.length > limit) return { objects: objects.slice(0, limit), more: true };
        if (!page.truncated) return { objects, more: false };
        if (page.objects.length === 0) {
          throw new ObjectStoreError(
            ObjectStoreErrorCode.INTERNAL,
            'list: the server reported a truncated listing without keys',
          );
        }
      }
    });
  }

  delete(key: string, options: CallOptions = {}): Promise<void> {
    return this.#gate.run('delete', options.signal, async () => {
      checkKey(key);
      await this.#call('delete', key, options.signal, (s) => this.#api.removeObject(this.prefix + key, s));
    });
  }

  close(): Promise<void> {
    return this.#closeOnce.run(async () => {
      await this.#gate.close();
      this.#api.close();
      this.#log.debug('closed');
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
