import { ManualClock, MemoryLogger } from '@streamsvc/common';

import { ObjectStoreError } from './errors.js';
import { compareKeys } from './keys.js';
import type { S3Api, S3ListPage, S3ObjectStat, S3PutOptions, S3Range } from './s3-api.js';
import { S3ObjectStore } from './s3-object-store.js';

const s3Error = (code: string): Error => Object.assign(new Error(code), { name: 'S3Error', code });
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

interface Stored {
  readonly data: Uint8Array;
  readonly etag: string;
}

/** An in-memory S3 bucket behind the S3Api port, with knobs for the server behaviours under test. */
class FakeS3Api implements S3Api {
  readonly objects = new Map<string, Stored>();
  readonly calls: string[] = [];
  bucket = true;
  honoursIfNoneMatch = true;
  /** Called before every request; may throw to inject a failure or return a promise to stall. */
  before: (op: string) => void | Promise<void> = () => {};
  closed = false;
  #etag = 0;

  async #enter(op: string, signal?: AbortSignal): Promise<void> {
    this.calls.push(op);
    signal?.throwIfAborted();
    await this.before(op);
  }

  async bucketExists(signal?: AbortSignal): Promise<boolean> {
    await this.#enter('bucketExists', signal);
    return this.bucket;
  }

  async makeBucket(signal?: AbortSignal): Promise<void> {
    await this.#enter('makeBucket', signal);
    this.bucket = true;
  }

  async putObject(key: string, data: Uint8Array, options: S3PutOptions): Promise<{ etag: string }> {
    await this.#enter(options.ifNoneMatch ? 'putIfNoneMatch' : 'put', options.signal);
    if (options.ifNoneMatch && this.honoursIfNoneMatch && this.objects.has(key)) throw s3Error('PreconditionFailed');
    const etag = `e${++this.#etag}`;
    this.objects.set(key, { data: data.slice(), etag });
    return { etag };
  }

  async getObject(key: string, range: S3Range | undefined, signal?: AbortSignal): Promise<Uint8Array> {
    await this.#enter('get', signal);
    const o = this.objects.get(key);
    if (!o) throw s3Error('NoSuchKey');
    if (!range) return o.data.slice();
    if (range.offset >= o.data.length) throw s3Error('InvalidRange');
    return o.data.slice(range.offset, range.length === undefined ? undefined : range.offset + range.length);
  }

  async statObject(key: string, signal?: AbortSignal): Promise<S3ObjectStat> {
    await this.#enter('stat', signal);
    const o = this.objects.get(key);
    if (!o) throw s3Error('NotFound');
    return { size: o.data.length, etag: o.etag, lastModifiedMs: 1000 };
  }

  async listObjects(
    prefix: string,
    startAfter: string | undefined,
    maxKeys: number,
    signal?: AbortSignal,
  ): Promise<S3ListPage> {
    await this.#enter('list', signal);
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (startAfter === undefined || compareKeys(k, startAfter) > 0))
      .sort(compareKeys);
    const page = keys.slice(0, Math.min(maxKeys, 1000));
    return {
      objects: page.map((key) => ({ key, size: this.objects.get(key)!.data.length, etag: 'x', lastModifiedMs: 1 })),
      truncated: keys.length > page.length,
    };
  }

  async removeObject(key: string, signal?: AbortSignal): Promise<void> {
    await this.#enter('remove', signal);
    this.objects.delete(key);
  }

  close(): void {
    this.closed = true;
  }
}

const open = (api: FakeS3Api, extra: Partial<Parameters<typeof S3ObjectStore.openWith>[1]> = {}) =>
  S3ObjectStore.openWith(api, { bucket: 'bkt', prefix: 'pfx/', clock: new ManualClock(5000), ...extra });

describe('S3ObjectStore.open', () => {
  it('probes conditional writes with a reserved key, deletes the probe and reports atomic putIfAbsent', async () => {
    const api = new FakeS3Api();
    await using store = await open(api);
    expect(store.capabilities.atomicPutIfAbsent).toBe(true);
    expect(api.calls).toEqual(['bucketExists', 'putIfNoneMatch', 'putIfNoneMatch', 'remove']);
    expect(api.objects.size).toBe(0);
  });

  it('refuses with UNSUPPORTED a server that ignores If-None-Match, and closes the client', async () => {
    const api = new FakeS3Api();
    api.honoursIfNoneMatch = false;
    const error = await open(api).catch((e: unknown) => e);
    expect(ObjectStoreError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toContain('server ignores If-None-Match; putIfAbsent cannot fence writers');
    expect(api.objects.size).toBe(0);
    expect(api.closed).toBe(true);
  });

  it('opens without probing when conditional writes are not required, warns, and reports best-effort putIfAbsent', async () => {
    const api = new FakeS3Api();
    api.honoursIfNoneMatch = false;
    const logger = new MemoryLogger();
    await using store = await open(api, { requireConditionalWrites: false, logger });
    expect(store.capabilities.atomicPutIfAbsent).toBe(false);
    expect(api.calls).toEqual(['bucketExists']);
    expect(logger.records.some((r) => r.level === 'warn' && /best-effort/.test(r.msg ?? ''))).toBe(true);
  });

  it('rejects a missing bucket with ACCESS_DENIED unless asked to create it', async () => {
    const api = new FakeS3Api();
    api.bucket = false;
    const error = await open(api).catch((e: unknown) => e);
    expect(ObjectStoreError.is(error, 'ACCESS_DENIED')).toBe(true);
    const again = new FakeS3Api();
    again.bucket = false;
    await using store = await open(again, { createBucket: true });
    expect(again.calls.slice(0, 2)).toEqual(['bucketExists', 'makeBucket']);
    expect(store.kind).toBe('s3');
  });

  it('treats a bucket created concurrently by someone else as created', async () => {
    const api = new FakeS3Api();
    api.bucket = false;
    api.before = (op) => {
      if (op === 'makeBucket') throw s3Error('BucketAlreadyOwnedByYou');
    };
    await using store = await open(api, { createBucket: true });
    expect(store.bucket).toBe('bkt');
  });

  it.each([
    [{ prefix: 'no-slash' }],
    [{ prefix: '/abs/' }],
    [{ prefix: 'a//' }],
    [{ bucket: '' }],
    [{ maxObjectBytes: -1 }],
    [{ maxObjectBytes: 6 * 1024 ** 3 }],
    [{ requestTimeoutMs: 0 }],
  ])('rejects bad options %j with INVALID_ARGUMENT', async (bad) => {
    const api = new FakeS3Api();
    const error = await open(api, bad).catch((e: unknown) => e);
    expect(ObjectStoreError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(api.closed).toBe(true);
  });

  it('rejects an endpoint that is not an http(s) URL with INVALID_ARGUMENT', async () => {
    const error = await S3ObjectStore.open({
      endpoint: 'ftp://x',
      accessKey: 'a',
      secretKey: 'b',
      bucket: 'bkt',
    }).catch((e: unknown) => e);
    expect(ObjectStoreError.is(error, 'INVALID_ARGUMENT')).toBe(true);
  });
});

describe('S3ObjectStore operations', () => {
  it('stores keys under the prefix and hides reserved and invalid names from listings', async () => {
    const api = new FakeS3Api();
    await using store = await open(api);
    await store.put('a/1', bytes('one'));
    api.objects.set('pfx/.tmp~probe-left-by-a-crash', { data: bytes('x'), etag: 'p' });
    api.objects.set('pfx/a//bad', { data: bytes('x'), etag: 'b' });
    api.objects.set('other/a/2', { data: bytes('x'), etag: 'o' });
    await store.put('a/3', bytes('three'));
    expect([...api.objects.keys()].sort()).toEqual([
      'other/a/2',
      'pfx/.tmp~probe-left-by-a-crash',
      'pfx/a//bad',
      'pfx/a/1',
      'pfx/a/3',
    ]);
    const page = await store.list('');
    expect(page.objects.map((o) => o.key)).toEqual(['a/1', 'a/3']);
    expect(page.more).toBe(false);
  });

  it('pages exactly, looking past hidden keys to decide whether more follow', async () => {
    const api = new FakeS3Api();
    await using store = await open(api);
    await store.put('k1', bytes('1'));
    await store.put('k2', bytes('2'));
    for (let i = 0; i < 5; i++) api.objects.set(`pfx/k2/.tmp~${i}`, { data: bytes('x'), etag: 't' });
    const first = await store.list('k', { limit: 1 });
    expect(first).toMatchObject({ objects: [{ key: 'k1' }], more: true });
    const second = await store.list('k', { limit: 1, startAfter: 'k1' });
    expect(second).toMatchObject({ objects: [{ key: 'k2' }], more: false });
  });

  it('answers an empty array for a range past the end and NOT_FOUND for a missing key', async () => {
    const api = new FakeS3Api();
    await using store = await open(api);
    await store.put('k', bytes('hello'));
    expect(text(await store.getRange('k', { offset: 1, length: 3 }))).toBe('ell');
    expect(await store.getRange('k', { offset: 5 })).toHaveLength(0);
    expect(await store.getRange('k', { offset: 2, length: 0 })).toHaveLength(0);
    await expect(store.getRange('missing', { offset: 9 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.getRange('missing', { offset: 0, length: 0 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('does a best-effort head-then-put for putIfAbsent when conditional writes are not required', async () => {
    const api = new FakeS3Api();
    api.honoursIfNoneMatch = false;
    await using store = await open(api, { requireConditionalWrites: false });
    await store.putIfAbsent('k', bytes('first'));
    await expect(store.putIfAbsent('k', bytes('second'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(text(await store.get('k'))).toBe('first');
    expect(api.calls.slice(-4)).toEqual(['stat', 'putIfNoneMatch', 'stat', 'get']);
  });

  it('reports put results with the clock time and the server etag', async () => {
    const api = new FakeS3Api();
    await using store = await open(api);
    const info = await store.put('k', bytes('abc'));
    expect(info).toEqual({ key: 'k', size: 3, etag: expect.stringMatching(/^e\d+$/), lastModifiedMs: 5000 });
  });

  it('translates transient server failures into retriable UNAVAILABLE', async () => {
    const api = new FakeS3Api();
    await using store = await open(api);
    api.before = () => {
      throw new Error('Request failed after 0 retries: Error: Retryable HTTP status: 503');
    };
    const error = await store.put('k', bytes('x')).catch((e: unknown) => e);
    expect(ObjectStoreError.is(error, 'UNAVAILABLE')).toBe(true);
    expect((error as ObjectStoreError).retriable).toBe(true);
  });

  it('fails a request that outlives requestTimeoutMs on the injected clock with UNAVAILABLE, and leaves no timer behind', async () => {
    const api = new FakeS3Api();
    const clock = new ManualClock(5000);
    await using store = await open(api, { requestTimeoutMs: 50, clock });
    expect(clock.pendingSleeps).toBe(0);
    api.before = () => new Promise(() => {}); // a server that never answers
    const pending = store.get('k').catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    expect(clock.pendingSleeps).toBe(1);
    clock.advance(49);
    clock.advance(1);
    const error = await pending;
    expect(ObjectStoreError.is(error, 'UNAVAILABLE')).toBe(true);
    expect((error as ObjectStoreError).retriable).toBe(true);
    expect((error as Error).message).toContain('no answer within 50 ms');
    expect(clock.pendingSleeps).toBe(0);
  });

  it('rejects with the caller’s abort reason when the signal fires during a request', async () => {
    const api = new FakeS3Api();
    await using store = await open(api);
    api.before = () => new Promise(() => {});
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const pending = store.get('k', { signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('waits for calls in flight on close, then rejects new calls with CLOSED and closes the client once', async () => {
    const api = new FakeS3Api();
    const store = await open(api);
    let release!: () => void;
    api.before = () => new Promise<void>((r) => (release = r));
    const inflight = store.put('k', bytes('x'));
    await new Promise((r) => setImmediate(r));
    const closing = store.close();
    expect(store.close()).toBe(closing);
    expect(api.closed).toBe(false);
    release();
    await expect(inflight).resolves.toMatchObject({ key: 'k' });
    await closing;
    expect(api.closed).toBe(true);
    await expect(store.get('k')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
