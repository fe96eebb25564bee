import { startEtcd } from '@streamsvc/testkit';
import type { EtcdService } from '@streamsvc/testkit';

import { describeMetaKvConformance } from '../src/conformance.js';
import { EtcdMetaKv } from '../src/index.js';

let etcd: EtcdService;
let stores = 0;

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await etcd.stop();
});

// Each scenario gets its own namespace of one etcd: an empty key space, shared revisions.
describeMetaKvConformance(
  'etcd 3.4',
  { open: () => EtcdMetaKv.connect({ endpoints: etcd.endpoints, namespace: `conformance-${++stores}/` }) },
  { describe, it },
);
