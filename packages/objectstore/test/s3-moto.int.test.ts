import { MemoryLogger } from '@streamsvc/common';
import { freePort } from '@streamsvc/testkit';

import { MinioS3Api } from '../src/minio-s3-api.js';
import { ObjectStoreError, S3ObjectStore, objectStoreConfigSchema, openObjectStore } from '../src/index.js';
import { objectStoreConformance } from './conformance.js';
import { BUCKET, s3Fixture } from './s3-target.js';

const moto = s3Fixture('moto');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('S3ObjectStore conformance on moto', () => {
  objectStoreConformance(moto.target('S3 on moto', {}));
});

describe('S3ObjectStore on moto', () => {
  it('verifies conditional writes on open and leaves no probe object in the bucket', async () => {
    const options = moto.options();
    await using store = await S3ObjectStore.open(options);
    expect(store.capabilities.atomicPutIfAbsent).toBe(true);
    const raw = MinioS3Api.create({ ...options, region: 'us-east-1', pathStyle: true });
    try {
      const page = await raw.listObjects(options.prefix!, undefined, 1000);
      expect(page.objects).toEqual([]);
    } finally {
      raw.close();
    }
  });

  it('keeps stores with different prefixes in one bucket apart', async () => {
    await using a = await S3ObjectStore.open(moto.options({ prefix: 'tenant-a/' }));
    await using b = await S3ObjectStore.open(moto.options({ prefix: 'tenant-b/' }));
    await a.put('k', enc('from a'));
    await b.put('k', enc('from b'));
    expect(dec(await a.get('k'))).toBe('from a');
    expect((await b.list('')).objects.map((o) => o.key)).toEqual(['k']);
    await using root = await S3ObjectStore.open(moto.options({ prefix: '' }));
    expect((await root.list('tenant-')).objects.map((o) => o.key)).toEqual(['tenant-a/k', 'tenant-b/k']);
  });

  it('refuses a missing bucket with ACCESS_DENIED unless createBucket is set', async () => {
    const error = await S3ObjectStore.open(moto.options({ bucket: 'no-such-bucket', createBucket: false })).catch(
      (e: unknown) => e,
    );
    expect(ObjectStoreError.is(error, 'ACCESS_DENIED')).toBe(true);
    expect((error as Error).message).toContain('no-such-bucket');
  });

  it('fails with retriable UNAVAILABLE when nothing listens at the endpoint', async () => {
    const port = await freePort();
    const error = await S3ObjectStore.open(moto.options({ endpoint: `http://127.0.0.1:${port}` })).catch(
      (e: unknown) => e,
    );
    expect(ObjectStoreError.is(error, 'UNAVAILABLE')).toBe(true);
    expect((error as ObjectStoreError).retriable).toBe(true);
  });

  it('rejects with the abort reason when aborted while a request is in flight', async () => {
    await using store = await S3ObjectStore.open(moto.options());
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const pending = store.put('ab/big', new Uint8Array(8 * 1024 * 1024), { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 5);
    await expect(pending).rejects.toBe(reason);
    // The store stays usable after an aborted request.
    await store.put('ab/small', enc('ok'));
    expect(dec(await store.get('ab/small'))).toBe('ok');
  });

  it('opens from a parsed configuration with a logger', async () => {
    const logger = new MemoryLogger();
    const o = moto.options();
    const config = objectStoreConfigSchema.parse({
      kind: 's3',
      endpoint: o.endpoint,
      accessKey: o.accessKey,
      secretKey: o.secretKey,
      bucket: BUCKET,
      prefix: 'cfg/',
      createBucket: true,
    });
    await using store = await openObjectStore(config, { logger });
    expect(store.kind).toBe('s3');
    expect(store.capabilities.atomicPutIfAbsent).toBe(true);
    expect(logger.records.every((r) => r.fields['component'] === 'objectstore')).toBe(true);
  });
});
