import { ObjectStoreError, S3ObjectStore } from '../src/index.js';
import { MinioS3Api } from '../src/minio-s3-api.js';
import { objectStoreConformance } from './conformance.js';
import { s3Fixture } from './s3-target.js';

const s3rver = s3Fixture('s3rver');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('S3ObjectStore conformance on s3rver', () => {
  objectStoreConformance(
    s3rver.target(
      'S3 on s3rver',
      { requireConditionalWrites: false },
      {
        atomicPutIfAbsent:
          's3rver ignores If-None-Match (it overwrites with 200), so putIfAbsent is a best-effort head-then-put there',
        byteOrderListing:
          's3rver 3.7 lists in the order of a walk over its on-disk layout (`<segment>/` directories, `<name>._S3rver_object` files), so `a/…` comes before `a-x` and `a`; S3, moto and the local store use UTF-8 byte order',
      },
    ),
  );
});

describe('S3ObjectStore on s3rver', () => {
  it('refuses to open with UNSUPPORTED when conditional writes are required, leaving no probe behind', async () => {
    const options = s3rver.options();
    const error = await S3ObjectStore.open(options).catch((e: unknown) => e);
    expect(ObjectStoreError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toContain('server ignores If-None-Match; putIfAbsent cannot fence writers');
    const raw = MinioS3Api.create({ ...options, region: 'us-east-1', pathStyle: true });
    try {
      expect((await raw.listObjects(options.prefix!, undefined, 1000)).objects).toEqual([]);
    } finally {
      raw.close();
    }
  });

  it('still refuses a second putIfAbsent on a key that exists (head-then-put)', async () => {
    await using store = await S3ObjectStore.open(s3rver.options({ requireConditionalWrites: false }));
    await store.putIfAbsent('k', enc('first'));
    await expect(store.putIfAbsent('k', enc('second'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  it('sends an object above minio’s 64 MiB multipart threshold as one PUT when maxObjectBytes allows it', async () => {
    // minio's multipart path fails on s3rver (NotImplemented), so success means a single PUT.
    await using store = await S3ObjectStore.open(
      s3rver.options({ requireConditionalWrites: false, maxObjectBytes: 80 * 1024 * 1024 }),
    );
    const data = new Uint8Array(65 * 1024 * 1024).fill(0x5a);
    expect((await store.put('big/k', data)).size).toBe(data.length);
    const tail = await store.getRange('big/k', { offset: data.length - 3 });
    expect([...tail]).toEqual([0x5a, 0x5a, 0x5a]);
  }, 60_000);

  it('rejects wrong credentials with ACCESS_DENIED', async () => {
    const error = await S3ObjectStore.open(
      s3rver.options({ accessKey: 'WRONG', secretKey: 'WRONG', requireConditionalWrites: false }),
    ).catch((e: unknown) => e);
    expect(ObjectStoreError.is(error, 'ACCESS_DENIED')).toBe(true);
    expect((error as ObjectStoreError).retriable).toBe(false);
  });
});
