import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ManualClock } from '@streamsvc/common';
import { EmbeddedMetaKv } from '@streamsvc/metastore';
import type { Compare } from '@streamsvc/metastore';

import { FakeNodes } from '../test/support/fake-nodes.js';

import { evenSpreadPolicy } from './balance-policy.js';
import { Balancer } from './balancer.js';
import type { NodeSessionInfo } from './node-sessions.js';
import { PChannelMetaStore, PChannelState } from './pchannel-meta.js';
import { TopologyHub } from './topology.js';

const node = (id: number, draining = false): NodeSessionInfo => ({
  serverId: BigInt(id),
  address: `127.0.0.1:${20000 + id}`,
  draining,
  version: 'test',
  startedAtMs: 0,
});

const pchannels = Array.from({ length: 8 }, (_, i) => `test-dml_${i}`);

async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Balancer', () => {
  let dir: string;
  let kv: EmbeddedMetaKv;
  const clock = new ManualClock();
  const guardKey = 'test/leader';
  let guard: () => readonly Compare[];
  const started: Balancer[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'balancer-'));
    kv = await EmbeddedMetaKv.open({ path: dir });
    const put = await kv.put(guardKey, 'me');
    guard = () => [{ key: guardKey, target: 'modRevision', op: '==', value: put.revision }];
  });

  afterEach(async () => {
    for (const b of started.splice(0)) await b.close();
    await kv.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(nodes: FakeNodes, hub = new TopologyHub(1n, pchannels)): Promise<Balancer> {
    const b = await Balancer.start({
      store: new PChannelMetaStore(kv, 'test/coord/', guard),
      pchannels,
      nodes,
      policy: evenSpreadPolicy,
      hub,
      clock,
      checkIntervalMs: 60_000,
    });
    started.push(b);
    return b;
  }

  const settled = (b: Balancer): boolean => b.status().every((p) => p.state === PChannelState.ASSIGNED && !p.moving);

  it('assigns every pchannel evenly once the nodes are known, under term 1, and publishes them', async () => {
    const nodes = new FakeNodes();
    const hub = new TopologyHub(1n, pchannels);
    const b = await start(nodes, hub);
    expect(nodes.log).toEqual([]); // nothing moves before the node list is known
    b.updateNodes([node(1), node(2), node(3)]);
    await eventually(() => settled(b), 'all assigned');
    expect([...nodes.layout().values()].map((l) => l.length).sort()).toEqual([2, 3, 3]);
    expect(b.status().every((p) => p.term === 1n)).toBe(true);
    const published = hub.current.assignments.flatMap((a) => a.pchannels.map((p) => p.name)).sort();
    expect(published).toEqual(pchannels);
  });

  it('moves only the excess to a joining node, closing each on its old owner before opening it', async () => {
    const nodes = new FakeNodes();
    const b = await start(nodes);
    b.updateNodes([node(1), node(2)]);
    await eventually(() => settled(b), 'first layout');
    nodes.log.length = 0;
    b.updateNodes([node(1), node(2), node(3)]);
    await eventually(() => settled(b) && nodes.layout().get(3n)?.length === 2, 'rebalanced');
    const assigns = nodes.log.filter((l) => l.startsWith('assign'));
    expect(assigns).toHaveLength(2);
    for (const a of assigns) {
      const [, pchannel] = a.split(' ');
      const name = pchannel!.split('@')[0]!;
      const removeAt = nodes.log.findIndex((l) => l.startsWith(`remove ${name}@1 `));
      expect(removeAt).toBeGreaterThanOrEqual(0);
      expect(removeAt).toBeLessThan(nodes.log.indexOf(a));
      expect(a).toContain('@2 on 3');
    }
  });

  it('reassigns the pchannels of a node that left under a new term', async () => {
    const nodes = new FakeNodes();
    const b = await start(nodes);
    b.updateNodes([node(1), node(2)]);
    await eventually(() => settled(b), 'first layout');
    const lost = nodes.layout().get(2n)!;
    b.updateNodes([node(1)]);
    await eventually(() => settled(b) && nodes.layout().get(1n)?.length === 8, 'all on node 1');
    for (const p of b.status()) expect(p.term).toBe(lost.includes(p.name) ? 2n : 1n);
    expect(nodes.log.some((l) => l.startsWith('remove') && l.endsWith('on 2'))).toBe(false); // gone: not asked
  });

  it('marks the pchannels UNAVAILABLE (and out of the topology) while no node is live, and places them when one joins', async () => {
    const nodes = new FakeNodes();
    const hub = new TopologyHub(1n, pchannels);
    const b = await start(nodes, hub);
    b.updateNodes([node(1)]);
    await eventually(() => settled(b), 'first layout');
    b.updateNodes([]);
    await eventually(
      () => b.status().every((p) => p.state === PChannelState.UNAVAILABLE),
      'every pchannel unavailable',
    );
    expect(hub.current.assignments).toEqual([]);
    expect(b.status().every((p) => p.term === 1n && p.node?.serverId === 1n)).toBe(true);
    b.updateNodes([node(2)]);
    await eventually(() => settled(b), 'placed on the new node');
    expect(b.status().every((p) => p.term === 2n && p.node?.serverId === 2n)).toBe(true);
  });

  it('does not let a hung node hold up the reassignment of its pchannels once it left', async () => {
    const nodes = new FakeNodes();
    const b = await start(nodes);
    b.updateNodes([node(1), node(2)]);
    await eventually(() => settled(b), 'first layout');
    nodes.hang.add(2n); // paused: its status check never answers
    clock.advance(60_000);
    b.trigger();
    await eventually(() => nodes.log.includes('status of 2'), 'the periodic status check');
    b.updateNodes([node(1)]); // its session expired
    await eventually(() => settled(b) && nodes.layout().get(1n)?.length === 8, 'all on node 1', 1000);
  });

  it('empties a draining node, asking it to close each pchannel first', async () => {
    const nodes = new FakeNodes();
    const b = await start(nodes);
    b.updateNodes([node(1), node(2)]);
    await eventually(() => settled(b), 'first layout');
    b.updateNodes([node(1), node(2, true)]);
    await eventually(() => settled(b) && !nodes.layout().has(2n), 'node 2 empty');
    expect(nodes.log.filter((l) => l.startsWith('remove') && l.endsWith('on 2'))).toHaveLength(4);
  });

  it('resumes a move a previous coordinator persisted as ASSIGNING, without bumping the term again', async () => {
    const nodes = new FakeNodes();
    nodes.hang.add(2n);
    const first = await start(nodes);
    first.updateNodes([node(1), node(2)]);
    await eventually(
      () => first.status().filter((p) => p.state === PChannelState.ASSIGNING && p.moving).length === 4,
      'moves to node 2 hanging',
    );
    await first.close();
    nodes.hang.clear();
    const second = await start(nodes);
    expect(second.status().filter((p) => p.state === PChannelState.ASSIGNING)).toHaveLength(4);
    second.updateNodes([node(1), node(2)]);
    await eventually(() => settled(second), 'resumed');
    expect(second.status().every((p) => p.term === 1n)).toBe(true);
  });

  it('reassigns a pchannel whose owner no longer holds it when a client reports it, and not otherwise', async () => {
    const nodes = new FakeNodes();
    const b = await start(nodes);
    b.updateNodes([node(1)]);
    await eventually(() => settled(b), 'assigned');
    await b.reportUnavailable('test-dml_0', 1n);
    b.trigger();
    await new Promise((r) => setTimeout(r, 50));
    expect(b.status().find((p) => p.name === 'test-dml_0')!.term).toBe(1n);
    nodes.held.get(1n)!.delete('test-dml_0'); // its WAL closed on its own
    await b.reportUnavailable('test-dml_0', 1n);
    await eventually(() => settled(b) && b.status().find((p) => p.name === 'test-dml_0')!.term === 2n, 'reassigned');
    expect(nodes.held.get(1n)!.get('test-dml_0')).toBe(2n);
  });

  it('moves a pchannel on request and refuses a node that is not live', async () => {
    const nodes = new FakeNodes();
    const b = await start(nodes);
    b.updateNodes([node(1), node(2)]);
    await eventually(() => settled(b), 'assigned');
    const p = nodes.layout().get(1n)![0]!;
    await b.move(p, 2n);
    expect(nodes.held.get(2n)!.get(p)).toBe(2n);
    expect(nodes.held.get(1n)!.has(p)).toBe(false);
    await expect(b.move(p, 9n)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(b.move('nope', 1n)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('stops with COORDINATOR_NOT_ACTIVE once its leadership guard fails, writing nothing more', async () => {
    const nodes = new FakeNodes();
    const b = await start(nodes);
    await kv.put(guardKey, 'someone else'); // the guard's revision no longer matches
    b.updateNodes([node(1)]);
    const reason = await b.failed;
    expect(reason.code).toBe('COORDINATOR_NOT_ACTIVE');
    const stored = await new PChannelMetaStore(kv, 'test/coord/', () => []).loadAll();
    expect([...stored.values()].every((v) => v.meta.state === PChannelState.UNINITIALIZED)).toBe(true);
  });
});
