/** Shared set-up of the S3 integration tests: one server per test file, a fresh key prefix per store. */
import { startS3 } from '@streamsvc/testkit';
import type { S3ServerKind, S3Service } from '@streamsvc/testkit';

import { S3ObjectStore } from '../src/index.js';
import type { S3ObjectStoreOptions } from '../src/index.js';
import type { ConformanceTarget } from './conformance.js';

export const BUCKET = 'streamsvc-test';

export interface S3Fixture {
  /** The running server (set in beforeAll). */
  readonly server: () => S3Service;
  /** Options for a store on a fresh prefix of the test bucket. */
  readonly options: (extra?: Partial<S3ObjectStoreOptions>) => S3ObjectStoreOptions;
  readonly target: (
    name: string,
    extra: Partial<S3ObjectStoreOptions>,
    skip?: ConformanceTarget['skip'],
  ) => ConformanceTarget;
}

/** Starts one `kind` server for the file (beforeAll / afterAll) and hands out store options on it. */
export function s3Fixture(kind: S3ServerKind): S3Fixture {
  let server: S3Service | undefined;
  let prefixes = 0;
  beforeAll(async () => {
    server = await startS3({ kind });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });
  const running = (): S3Service => {
    if (!server) throw new Error(`${kind} did not start`);
    return server;
  };
  const options = (extra: Partial<S3ObjectStoreOptions> = {}): S3ObjectStoreOptions => {
    const s = running();
    return {
      endpoint: s.endpoint,
      accessKey: s.accessKey,
      secretKey: s.secretKey,
      region: s.region,
      bucket: BUCKET,
      prefix: `t${++prefixes}/`,
      createBucket: true,
      ...extra,
    };
  };
  return {
    server: running,
    options,
    target: (name, extra, skip) => ({
      name,
      nestedKeys: 'coexist',
      skip,
      open: (o) => S3ObjectStore.open(options({ ...extra, ...o })),
    }),
  };
}
