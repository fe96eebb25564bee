import { StreamingError } from '@streamsvc/message';

import { StreamingClient } from '../src/index.js';
import { FakeCluster } from './support/fake-cluster.js';
import { connectTo, eventually } from './support/helpers.js';

describe('topology discovery', () => {
  let cluster: FakeCluster;
  beforeEach(async () => {
    cluster = await FakeCluster.start({ pchannels: 3, nodes: 2 });
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('learns every pchannel, its owner and term, and waitReady resolves with that snapshot', async () => {
    await using client = await connectTo(cluster);
    const ready = await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    expect(ready.pchannels).toEqual(['fake-dml_0', 'fake-dml_1', 'fake-dml_2']);
    expect(ready.assignments.get('fake-dml_0')).toEqual({
      pchannel: 'fake-dml_0',
      term: 1n,
      node: { serverId: 1n, address: cluster.address(0) },
    });
    expect(ready.assignments.get('fake-dml_1')?.node.address).toBe(cluster.address(1));
    expect(client.topology()).toBe(ready);
  });

  it('waitReady waits while a pchannel is unassigned and resolves once it is assigned again', async () => {
    await using client = await connectTo(cluster);
    await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    const moving = cluster.move('fake-dml_2', 1, { gapMs: 300 });
    await eventually(() => !client.topology().assignments.has('fake-dml_2'), 2_000, 'pchannel unassigned');
    const started = Date.now();
    const ready = await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(ready.assignments.get('fake-dml_2')).toMatchObject({ term: 2n, node: { address: cluster.address(1) } });
    await moving;
  });

  it('waitReady rejects with the abort reason when the signal aborts first', async () => {
    await cluster.close();
    await using client = await StreamingClient.connect({ endpoint: '127.0.0.1:1' });
    const reason = new Error('gave up');
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 50);
    await expect(client.waitReady({ signal: controller.signal })).rejects.toBe(reason);
  });

  it('ignores a snapshot that is not newer than the one it has', async () => {
    await using client = await connectTo(cluster);
    await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    const before = client.topology();
    cluster.publish(); // same version again
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.topology()).toBe(before);
  });

  it('reconnects discovery after the server restarts on the same port and takes the new incarnation', async () => {
    await using client = await connectTo(cluster);
    await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    expect(client.topology().version.global).toBe(1n);
    await cluster.restartNode(0, 200);
    await eventually(() => client.topology().version.global === 2n, 5_000, 'new incarnation seen');
    await eventually(() => cluster.coordinator.discoveryStreams === 1, 2_000, 'one discovery stream');
    // The new incarnation's later changes keep flowing on the new stream.
    await cluster.move('fake-dml_0', 1);
    await eventually(() => client.topology().assignments.get('fake-dml_0')?.term === 2n, 2_000, 'move seen');
  });

  it('close is idempotent, ends the discovery stream and rejects later calls with ON_SHUTDOWN', async () => {
    const client = await connectTo(cluster);
    await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    expect(cluster.coordinator.discoveryStreams).toBe(1);
    const first = client.close();
    expect(client.close()).toBe(first);
    await first;
    await eventually(() => cluster.coordinator.discoveryStreams === 0, 2_000, 'discovery stream closed');
    await expect(client.waitReady()).rejects.toMatchObject({ code: 'ON_SHUTDOWN' });
    expect(() => client.subscribe({ vchannel: cluster.vchannel(0) })).toThrow(StreamingError);
  });

  it('a waitReady pending when the client closes rejects with ON_SHUTDOWN', async () => {
    await cluster.close();
    const client = await StreamingClient.connect({ endpoint: '127.0.0.1:1' });
    const waiting = expect(client.waitReady()).rejects.toMatchObject({ code: 'ON_SHUTDOWN', retriable: false });
    await client.close();
    await waiting;
  });

  it('rejects a malformed endpoint with INVALID_ARGUMENT', async () => {
    await expect(StreamingClient.connect({ endpoint: 'no-port' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
