import path from 'node:path';

import { tempDir } from '@streamsvc/testkit';
import type { TempDir } from '@streamsvc/testkit';

import { describeMetaKvConformance } from '../src/conformance.js';
import { EmbeddedMetaKv } from '../src/index.js';

let dir: TempDir;
let stores = 0;

beforeAll(async () => {
  dir = await tempDir('metastore-conformance-');
});

afterAll(async () => {
  await dir.remove();
});

describeMetaKvConformance(
  'embedded (LMDB)',
  { open: () => EmbeddedMetaKv.open({ path: path.join(dir.path, `store-${++stores}`) }) },
  { describe, it },
);
