import { EtcdMetaKv } from '@streamsvc/metastore';
import { startEtcd } from '@streamsvc/testkit';
import type { EtcdService } from '@streamsvc/testkit';

import { ClusterCoordinator } from '../src/cluster-coordinator.js';
import { clusterKeys, NodeSession } from '../src/node-sessions.js';
import type { ClusterKeys } from '../src/node-sessions.js';
import { FakeNodes } from './support/fake-nodes.js';

const pchannels = ['it-dml_0', 'it-dml_1', 'it-dml_2', 'it-dml_3'];
const TTL_MS = 2000;

async function eventually(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const assignedCount = (c: ClusterCoordinator): number =>
  c.active?.hub.current.assignments.reduce((n, a) => n + a.pchannels.length, 0) ?? 0;

describe('ClusterCoordinator against etcd', () => {
  let etcd: EtcdService;
  let run = 0;
  let keys: ClusterKeys;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });
  beforeEach(() => {
    keys = clusterKeys(`cc-${++run}/`);
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  });

  const connect = async (): Promise<EtcdMetaKv> => {
    const kv = await EtcdMetaKv.connect({ endpoints: etcd.endpoints, requestTimeoutMs: 3000 });
    cleanup.push(() => kv.close());
    return kv;
  };
  const coordinator = async (address: string, nodes: FakeNodes, kv?: EtcdMetaKv): Promise<ClusterCoordinator> => {
    const c = ClusterCoordinator.start({
      kv: kv ?? (await connect()),
      keys,
      pchannels,
      address,
      sessionTtlMs: TTL_MS,
      nodes,
      checkIntervalMs: 500,
    });
    cleanup.push(() => c.close());
    return c;
  };
  const registerNode = async (id: number): Promise<NodeSession> => {
    const s = await NodeSession.register(await connect(), {
      keys,
      serverId: BigInt(id),
      address: `127.0.0.1:${30000 + id}`,
      ttlMs: TTL_MS,
    });
    cleanup.push(() => s.close());
    return s;
  };

  it('has exactly one active coordinator; the standby answers COORDINATOR_NOT_ACTIVE and takes over on resign', async () => {
    const nodes = new FakeNodes();
    await registerNode(1);
    await registerNode(2);
    const a = await coordinator('127.0.0.1:1', nodes);
    await a.whenActive(AbortSignal.timeout(10_000));
    const b = await coordinator('127.0.0.1:2', nodes);
    await eventually(() => assignedCount(a) === 4, 'all pchannels assigned');
    expect(b.active).toBeUndefined();
    expect(() => b.requireActive()).toThrow(expect.objectContaining({ code: 'COORDINATOR_NOT_ACTIVE' }));
    const before = a.active!;
    const ts1 = await before.tso.allocate(1);
    const version1 = before.hub.current.version;
    const terms1 = before.balancer.status().map((p) => p.term);

    await a.close();
    const active = await b.whenActive(AbortSignal.timeout(10_000));
    const ts2 = await active.tso.allocate(1);
    expect(ts2).toBeGreaterThan(ts1);
    expect(active.hub.current.version.global).toBeGreaterThan(version1.global);
    await eventually(() => assignedCount(b) === 4, 'topology republished');
    // The new coordinator keeps the layout: nothing moved, no term bumped.
    expect(active.balancer.status().map((p) => p.term)).toEqual(terms1);
  }, 60_000);

  it('takes over when the active coordinator stops renewing its lease, and the old one steps down', async () => {
    const nodes = new FakeNodes();
    await registerNode(1);
    const kvA = await connect();
    const a = await coordinator('127.0.0.1:1', nodes, kvA);
    const activeA = await a.whenActive(AbortSignal.timeout(10_000));
    const b = await coordinator('127.0.0.1:2', nodes);
    await eventually(() => assignedCount(a) === 4, 'all pchannels assigned');
    const ts1 = await activeA.tso.allocate(1);
    const started = Date.now();
    await kvA.close(); // no resign, no keepalive: the lease runs out
    const activeB = await b.whenActive(AbortSignal.timeout(TTL_MS + 10_000));
    expect(Date.now() - started).toBeLessThan(TTL_MS + 5_000);
    expect(await activeB.tso.allocate(1)).toBeGreaterThan(ts1);
    await eventually(() => a.active === undefined, 'old coordinator stepped down');
    await expect(activeA.tso.allocate(1)).rejects.toBeDefined();
  }, 60_000);

  it('reassigns the pchannels of a node whose session ends', async () => {
    const nodes = new FakeNodes();
    await registerNode(1);
    const two = await registerNode(2);
    const c = await coordinator('127.0.0.1:1', nodes);
    const active = await c.whenActive(AbortSignal.timeout(10_000));
    await eventually(() => assignedCount(c) === 4 && nodes.layout().get(2n)?.length === 2, 'spread over 2 nodes');
    await two.close();
    await eventually(() => assignedCount(c) === 4 && nodes.layout().get(1n)?.length === 4, 'all on node 1');
    expect(active.balancer.status().filter((p) => p.term === 2n)).toHaveLength(2);
  }, 60_000);
});
