import { MemoryLogger } from '@streamsvc/common';
import { counterMessageIdCodec, MessageIdCodecs, StreamingError } from '@streamsvc/message';

import { FakeCluster } from './support/fake-cluster.js';
import { connectTo, data, eventually, sleep } from './support/helpers.js';

describe('append', () => {
  let cluster: FakeCluster;
  beforeEach(async () => {
    cluster = await FakeCluster.start({ pchannels: 2, nodes: 2 });
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('routes each vchannel to the node that owns its pchannel, under the current term', async () => {
    await using client = await connectTo(cluster);
    const a = await client.append(data(cluster.vchannel(0), 'to node 0'));
    const b = await client.append(data(cluster.vchannel(1), 'to node 1'));
    expect(a.id.toString()).toBe('v1:0');
    expect(b.id.toString()).toBe('v1:0');
    expect(a.timeTick).toBeLessThan(b.timeTick);
    expect(cluster.stats.producerCreates).toEqual([
      { node: 0, pchannel: 'fake-dml_0', term: 1n },
      { node: 1, pchannel: 'fake-dml_1', term: 1n },
    ]);
    expect(cluster.stored(cluster.vchannel(0)).map((m) => m.walTerm)).toEqual([1n]);
  });

  it('multiplexes concurrent appends over one stream and matches answers that come back out of order', async () => {
    await using client = await connectTo(cluster, { maxBatchMessages: 4 });
    const v = cluster.vchannel(0);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => client.append(data(v, `m${i}`))));
    const stored = cluster.stored(v);
    expect(stored).toHaveLength(100);
    // Each caller got the id of its own message, whatever order the answers came in.
    results.forEach((r, i) => {
      const m = stored.find((s) => s.id.equals(r.id))!;
      expect(new TextDecoder().decode(m.payload)).toBe(`m${i}`);
      expect(r.timeTick).toBe(m.timeTick);
      expect(r.lastConfirmed.equals(m.lastConfirmed)).toBe(true);
    });
    expect(cluster.stats.producerCreates).toHaveLength(1);
    // Coalesced: 100 appends in one tick travel as 25 requests of 4.
    expect(cluster.stats.produceRequests).toBe(25);
  });

  it('retries across a migration: the caller sees success, the new owner stores the message', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    await client.append(data(v, 'before'));
    // The pchannel moves silently: the old node fences the stream, the new topology comes later.
    await cluster.move('fake-dml_0', 1, { publish: false });
    const pending = client.append(data(v, 'during'));
    await eventually(() => cluster.coordinator.reports.length > 0, 3_000, 'wrong-node report');
    expect(cluster.coordinator.reports[0]).toMatchObject({ pchannel: { name: 'fake-dml_0', term: 1n } });
    cluster.publish();
    const r = await pending;
    expect(r.id.toString()).toBe('v1:1');
    expect(cluster.stored(v).map((m) => [new TextDecoder().decode(m.payload), m.walTerm])).toEqual([
      ['before', 1n],
      ['during', 2n],
    ]);
    expect(cluster.stats.producerCreates.at(-1)).toEqual({ node: 1, pchannel: 'fake-dml_0', term: 2n });
  });

  it('keeps appending while a pchannel moves back and forth under load, with no error', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    let stop = false;
    const writer = (async () => {
      let n = 0;
      while (!stop) await client.append(data(v, `w${n++}`));
      return n;
    })();
    for (let i = 0; i < 4; i++) {
      await sleep(40);
      await cluster.move('fake-dml_0', (i + 1) % 2, { gapMs: 30 });
    }
    await sleep(40);
    stop = true;
    const written = await writer;
    const stored = cluster.stored(v).map((m) => new TextDecoder().decode(m.payload));
    // At-least-once: every acknowledged message is stored, in order of acknowledgement.
    const acked = Array.from({ length: written }, (_, i) => `w${i}`);
    expect(stored.filter((s, i) => stored.indexOf(s) === i)).toEqual(acked);
    expect(cluster.owner('fake-dml_0')).toEqual({ node: 0, term: 5n });
    // One producer stream per (node, term) it was written under.
    expect(cluster.stats.producerCreates.map((c) => c.term)).toEqual([1n, 2n, 3n, 4n, 5n]);
  });

  it('retries through a node restart (transport errors) and succeeds once the node is back', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(1);
    await client.append(data(v, 'before'));
    const restarting = cluster.restartNode(1, 300);
    await sleep(50);
    const r = await client.append(data(v, 'while down'));
    await restarting;
    expect(r.id.toString()).toBe('v1:1');
    expect(cluster.stored(v)).toHaveLength(2);
  });

  it('retries an INNER error from the node and succeeds', async () => {
    await using client = await connectTo(cluster);
    cluster.injectErrors('fake-dml_0', [
      new StreamingError('INNER', 'disk hiccup'),
      new StreamingError('INNER', 'again'),
    ]);
    const r = await client.append(data(cluster.vchannel(0), 'x'));
    expect(r.id.toString()).toBe('v1:0');
  });

  it('surfaces a non-retriable error with the server code and message, without retrying', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0, 7n);
    cluster.dropVChannel(v);
    const e = await client.append(data(v, 'late')).catch((x: unknown) => x);
    expect(StreamingError.is(e, 'VCHANNEL_DROPPED')).toBe(true);
    expect((e as StreamingError).retriable).toBe(false);
    expect((e as StreamingError).message).toBe(`[streaming] vchannel ${v} was dropped; nothing may be appended`);
    expect(cluster.stats.produceRequests).toBe(1);
  });

  it('rejects a vchannel whose pchannel the cluster does not have with INVALID_ARGUMENT', async () => {
    await using client = await connectTo(cluster);
    await client.waitReady();
    await expect(client.append(data('other-dml_9_1v0', 'x'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('other-dml_9 is not a pchannel of this cluster'),
    });
  });

  it('fails with UNKNOWN when the node runs a WAL the client has no id codec for', async () => {
    await using client = await connectTo(cluster, { idCodecs: MessageIdCodecs.of([counterMessageIdCodec('kafka')]) });
    await expect(client.append(data(cluster.vchannel(0), 'x'))).rejects.toMatchObject({
      code: 'UNKNOWN',
      retriable: false,
      message: expect.stringContaining('wal "memory"'),
    });
  });

  it('abort after the request was sent rejects at once with the abort reason (outcome unknown)', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    await client.append(data(v, 'warm-up'));
    const release = cluster.hold();
    const controller = new AbortController();
    const pending = client.append(data(v, 'held'), { signal: controller.signal });
    await eventually(() => cluster.stats.produceRequests === 2, 2_000, 'request sent');
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    release();
    // The outcome was unknown to the caller; here it was in fact written.
    await eventually(() => cluster.stored(v).length === 2, 2_000, 'held append written');
  });

  it('an already aborted signal rejects without sending anything', async () => {
    await using client = await connectTo(cluster);
    const reason = new Error('no');
    await expect(client.append(data(cluster.vchannel(0), 'x'), { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
    expect(cluster.stats.produceRequests).toBe(0);
  });

  it('abort while waiting for an owner rejects with the abort reason', async () => {
    await using client = await connectTo(cluster);
    await client.waitReady();
    await cluster.move('fake-dml_0', 1, { publish: false });
    const controller = new AbortController();
    const pending = client.append(data(cluster.vchannel(0), 'x'), { signal: controller.signal });
    await sleep(100);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('close fails appends in flight with OUTCOME_UNKNOWN and later ones with ON_SHUTDOWN', async () => {
    const logger = new MemoryLogger();
    const client = await connectTo(cluster, { logger });
    const v = cluster.vchannel(0);
    await client.append(data(v, 'warm-up'));
    const release = cluster.hold();
    const pending = client.append(data(v, 'held'));
    await eventually(() => cluster.stats.produceRequests === 2, 2_000, 'request sent');
    const check = expect(pending).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    await client.close();
    await check;
    await expect(client.append(data(v, 'after'))).rejects.toMatchObject({ code: 'ON_SHUTDOWN', retriable: false });
    release();
    expect(logger.records.some((r) => r.msg === 'closed')).toBe(true);
  });
});
