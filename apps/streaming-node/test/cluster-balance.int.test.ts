import { randomUUID } from 'node:crypto';

import { StreamingClient } from '@streamsvc/client';
import { allMessageIdCodecs } from '@streamsvc/app-kit';
import { startEtcd, startKafka, tempDir } from '@streamsvc/testkit';
import type { EtcdService, TempDir } from '@streamsvc/testkit';

import { settled, spread, TestCluster } from './support/cluster.js';
import {
  createCollection,
  deliveryProblems,
  expectExactDelivery,
  Follower,
  Ledger,
  produce,
  readAll,
} from './support/workload.js';

const PCHANNELS = 6;
const TTL_MS = 3000;

jest.setTimeout(240_000);

describe('a cluster of real processes: placement, join, drain, coordinator failover', () => {
  let etcd: EtcdService;
  let dir: TempDir;
  beforeAll(async () => {
    etcd = await startEtcd();
    dir = await tempDir('cluster-balance-');
  });
  afterAll(async () => {
    await etcd?.stop();
    if (process.env.STREAMSVC_KEEP_TEST_DIRS) process.stdout.write(`kept ${dir.path}\n`);
    else await dir?.[Symbol.asyncDispose]();
  });

  const newCluster = (name: string, storage: 'local' | 'object-local' = 'local'): TestCluster =>
    new TestCluster({
      etcd,
      dir: dir.path,
      pchannels: PCHANNELS,
      sessionTtlMs: TTL_MS,
      root: `${name}-${randomUUID().slice(0, 8)}`,
      storage,
    });

  it('spreads pchannels evenly, rebalances onto a 4th node, and drains a node while producers and consumers see no error, gap or duplicate', async () => {
    await using cluster = newCluster('balance');
    await cluster.startCoordinator();
    for (let i = 0; i < 3; i++) await cluster.startNode();
    const initial = await cluster.waitFor(
      (s) => s.nodes.length === 3 && settled(s, PCHANNELS),
      '3 nodes holding every pchannel',
    );
    expect(spread(initial)).toEqual([2, 2, 2]);

    await using client = await StreamingClient.connect({ endpoint: cluster.endpoint });
    const vchannels = await createCollection(client, 'balance');
    const followers = vchannels.map((v) => new Follower(client, v));
    const ledger = new Ledger();
    const stop = new AbortController();
    const writers = Array.from({ length: 4 }, (_, w) => produce(client, vchannels, ledger, stop.signal, w));
    await new Promise((r) => setTimeout(r, 1000));

    await cluster.startNode();
    const rebalanced = await cluster.waitFor(
      (s) => s.nodes.length === 4 && settled(s, PCHANNELS) && spread(s)[0] === 1,
      'the 4th node to get its share',
    );
    expect(spread(rebalanced)).toEqual([1, 1, 2, 2]);
    await new Promise((r) => setTimeout(r, 1000));

    // Graceful drain: SIGTERM a node that holds pchannels; it exits once they moved away.
    const owned = new Set(rebalanced.pchannels.map((p) => p.node?.address));
    const leaving = cluster.nodes.find((n) => owned.has(n.grpc))!;
    const ackedBefore = ledger.acked.size;
    leaving.proc.signal('SIGTERM');
    const exit = await leaving.proc.exited;
    expect(exit.code).toBe(0);
    const drained = await cluster.waitFor(
      (s) => s.nodes.length === 3 && settled(s, PCHANNELS),
      'the drained pchannels to settle',
    );
    expect(spread(drained)).toEqual([2, 2, 2]);
    await new Promise((r) => setTimeout(r, 1000));
    stop.abort();
    await Promise.all(writers);

    expect(ledger.errors).toEqual([]);
    expect(ledger.acked.size).toBeGreaterThan(ackedBefore + 50);
    await expectExactDelivery(client, vchannels, followers, ledger);
  });

  it('kill -9 of the active coordinator: the standby takes over, the TSO stays monotonic, clients keep working (Woodpecker in object mode)', async () => {
    await using cluster = newCluster('coord-failover', 'object-local');
    await cluster.startCoordinator();
    await cluster.startCoordinator();
    for (let i = 0; i < 2; i++) await cluster.startNode();
    const before = await cluster.waitFor((s) => s.nodes.length === 2 && settled(s, PCHANNELS), 'the cluster to settle');

    await using client = await StreamingClient.connect({ endpoint: cluster.endpoint });
    const vchannels = await createCollection(client, 'failover');
    const ledger = new Ledger();
    const stop = new AbortController();
    const writers = Array.from({ length: 3 }, (_, w) => produce(client, vchannels, ledger, stop.signal, w));
    await new Promise((r) => setTimeout(r, 1000));

    const active = cluster.coords.find((c) => c.grpc === before.coordinator)!;
    const standby = cluster.coords.find((c) => c !== active)!;
    const tsBefore = await client.allocateTimestamp();
    const killedAt = Date.now();
    active.proc.signal('SIGKILL');
    await active.proc.exited;
    const after = await cluster.waitFor(
      (s) => s.coordinator === standby.grpc && settled(s, PCHANNELS),
      'the standby to take over',
      30_000,
    );
    const tookOverMs = Date.now() - killedAt;
    expect(tookOverMs).toBeLessThan(TTL_MS + 10_000);
    // Nodes and pchannels are kept: a takeover does not move anything.
    expect(after.nodes).toHaveLength(2);
    const tsAfter = await client.allocateTimestamp();
    expect(tsAfter).toBeGreaterThan(tsBefore);
    const ackedAtTakeover = ledger.acked.size;
    await new Promise((r) => setTimeout(r, 1500));
    stop.abort();
    await Promise.all(writers);

    expect(ledger.errors).toEqual([]);
    expect(ledger.acked.size).toBeGreaterThan(ackedAtTakeover + 20);
    const maxTt = [...ledger.ackedAt.values()].reduce((a, b) => (a > b ? a : b), 0n);
    expect(await client.allocateTimestamp()).toBeGreaterThan(maxTt);
    for (const vchannel of vchannels) {
      expect(deliveryProblems(vchannel, await readAll(client, vchannel, ledger), ledger)).toEqual([]);
    }
  });

  it('runs on Kafka too: nodes share a broker, and a drained node’s pchannels move with no error, gap or duplicate', async () => {
    await using kafka = await startKafka();
    const wal = ['--wal', 'kafka'];
    await using cluster = new TestCluster({
      etcd,
      dir: dir.path,
      pchannels: 4,
      sessionTtlMs: TTL_MS,
      root: `kafka-${randomUUID().slice(0, 8)}`,
      nodeArgs: [...wal, '--kafka-brokers', kafka.brokers.join(','), '--kafka-topic-prefix', randomUUID().slice(0, 8)],
      coordArgs: wal,
    });
    await cluster.startCoordinator();
    for (let i = 0; i < 2; i++) await cluster.startNode();
    const initial = await cluster.waitFor((s) => s.nodes.length === 2 && settled(s, 4), 'the cluster to settle');
    await using client = await StreamingClient.connect({ endpoint: cluster.endpoint, idCodecs: allMessageIdCodecs() });
    const vchannels = await createCollection(client, 'on-kafka');
    const followers = vchannels.map((v) => new Follower(client, v));
    const ledger = new Ledger();
    const stop = new AbortController();
    const writers = Array.from({ length: 2 }, (_, w) => produce(client, vchannels, ledger, stop.signal, w));
    await new Promise((r) => setTimeout(r, 1000));
    await cluster.startNode();
    const owned = new Set(initial.pchannels.map((p) => p.node?.address));
    const leaving = cluster.nodes.find((n) => owned.has(n.grpc))!;
    leaving.proc.signal('SIGTERM');
    expect((await leaving.proc.exited).code).toBe(0);
    await cluster.waitFor((s) => s.nodes.length === 2 && settled(s, 4), 'the drained pchannels to settle');
    await new Promise((r) => setTimeout(r, 1000));
    stop.abort();
    await Promise.all(writers);
    expect(ledger.errors).toEqual([]);
    await expectExactDelivery(client, vchannels, followers, ledger);
  });
});
