/** Shared set-ups of the integration tests: real stores in temp directories, a real S3 server. */
import { noopLogger, systemClock } from '@streamsvc/common';
import { EmbeddedMetaKv } from '@streamsvc/metastore';
import { LocalObjectStore, S3ObjectStore } from '@streamsvc/objectstore';
import type { ObjectStore } from '@streamsvc/objectstore';
import { startS3, tempDir } from '@streamsvc/testkit';
import type { S3Service, TempDir } from '@streamsvc/testkit';
import type { WalBackendDeps } from '@streamsvc/wal-core';

import { woodpeckerWal } from '../../src/index.js';
import type { WoodpeckerWalConfig, WoodpeckerWalConfigInput } from '../../src/index.js';

/** The medium a test runs on. */
export type Medium = 'local' | 'object-fs' | 'object-s3';

/** A storage for one test file: a MetaKv, a directory or an object store, and configs pointing at them. */
export interface Storage {
  readonly dir: string;
  readonly metaKv: EmbeddedMetaKv;
  readonly objectStore: ObjectStore | undefined;
  deps(): WalBackendDeps;
  config(extra?: Partial<WoodpeckerWalConfigInput>): WoodpeckerWalConfig;
}

/**
 * Registers beforeAll/afterAll that set up `medium` once for the file: a temp dir with an embedded
 * MetaKv, plus a LocalObjectStore (`object-fs`) or an S3ObjectStore on a moto server (`object-s3`).
 */
export function storageFixture(medium: Medium): () => Storage {
  let dir: TempDir | undefined;
  let metaKv: EmbeddedMetaKv | undefined;
  let objectStore: ObjectStore | undefined;
  let s3: S3Service | undefined;
  beforeAll(async () => {
    dir = await tempDir(`wp-${medium}-`);
    metaKv = await EmbeddedMetaKv.open({ path: `${dir.path}/meta` });
    if (medium === 'object-fs') objectStore = await LocalObjectStore.open({ root: `${dir.path}/objects` });
    if (medium === 'object-s3') {
      s3 = await startS3({ kind: 'moto' });
      objectStore = await S3ObjectStore.open({
        endpoint: s3.endpoint,
        accessKey: s3.accessKey,
        secretKey: s3.secretKey,
        region: s3.region,
        bucket: 'woodpecker-test',
        createBucket: true,
      });
    }
  }, 60_000);
  afterAll(async () => {
    await objectStore?.close();
    await s3?.stop();
    await metaKv?.close();
    await dir?.remove();
  });
  return () => {
    if (dir === undefined || metaKv === undefined) throw new Error('storage fixture not set up');
    const d = dir.path;
    const kv = metaKv;
    const store = objectStore;
    return {
      dir: d,
      metaKv: kv,
      objectStore: store,
      deps: () => ({ logger: noopLogger, clock: systemClock, metaKv: kv, objectStore: store }),
      config: (extra = {}) =>
        woodpeckerWal.configSchema.parse(
          medium === 'local'
            ? { mode: 'local', rootDir: `${d}/wal`, ...extra }
            : { mode: 'object', prefix: 'wp', flushIntervalMs: 10, ...extra },
        ),
    };
  };
}
