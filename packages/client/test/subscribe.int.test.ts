import { MessageType } from '@streamsvc/message';
import type { AnyImmutableMessage } from '@streamsvc/message';

import { FakeCluster } from './support/fake-cluster.js';
import { connectTo, data, eventually, sleep, take, textOf } from './support/helpers.js';

const texts = (ms: readonly AnyImmutableMessage[]): string[] => ms.map(textOf);
const range = (from: number, to: number, prefix = 'm'): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe('subscribe', () => {
  let cluster: FakeCluster;
  beforeEach(async () => {
    cluster = await FakeCluster.start({ pchannels: 2, nodes: 2, consumeBatchSize: 4 });
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('delivers a vchannel from earliest in time-tick order, skipping other vchannels', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    for (let i = 0; i < 10; i++) {
      await client.append(data(v, `m${i}`));
      await client.append(data(cluster.vchannel(0, 2n), `other${i}`));
    }
    await using sub = client.subscribe({ vchannel: v, from: 'earliest' });
    const got = await take(sub, 10);
    expect(texts(got)).toEqual(range(0, 10));
    const tts = got.map((m) => m.timeTick);
    expect([...tts].sort((a, b) => (a < b ? -1 : 1))).toEqual(tts);
    expect(sub.position?.timeTick).toBe(tts[9]);
  });

  it('follows the tail: messages appended later arrive', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(1);
    await using sub = client.subscribe({ vchannel: v, from: 'earliest' });
    const reading = take(sub, 5);
    for (let i = 0; i < 5; i++) await client.append(data(v, `m${i}`));
    expect(texts(await reading)).toEqual(range(0, 5));
  });

  it('resumes after a forced stream failure from lastConfirmed with tt > last delivered: no gap, no duplicate', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    for (let i = 0; i < 20; i++) await client.append(data(v, `m${i}`));
    await using sub = client.subscribe({ vchannel: v, from: 'earliest' });
    const first = await take(sub, 7);
    const last = first.at(-1)!;
    cluster.breakStreams();
    for (let i = 20; i < 30; i++) await client.append(data(v, `m${i}`));
    const rest = await take(sub, 23);
    expect(texts([...first, ...rest])).toEqual(range(0, 30));
    // The reconnect asked for exactly the resume point of the last delivered message.
    const creates = cluster.stats.consumerCreates.map((c) => c.request);
    expect(creates.length).toBeGreaterThanOrEqual(2);
    const resumed = creates.find((c) => c.deliverPolicy?.policy?.$case === 'startFrom')!;
    expect(resumed.deliverPolicy?.policy).toEqual({ $case: 'startFrom', startFrom: expect.any(String) });
    expect(resumed.deliverFilters).toContainEqual({ filter: { $case: 'timeTickGt', timeTickGt: expect.any(BigInt) } });
    const resumeTt = (resumed.deliverFilters[0]!.filter as { timeTickGt: bigint }).timeTickGt;
    expect(resumeTt).toBeGreaterThanOrEqual(last.timeTick);
  });

  it('resumes on the new owner after a migration, under the new term', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    for (let i = 0; i < 10; i++) await client.append(data(v, `m${i}`));
    await using sub = client.subscribe({ vchannel: v, from: 'earliest' });
    const first = await take(sub, 5);
    await cluster.move('fake-dml_0', 1, { gapMs: 50 });
    for (let i = 10; i < 15; i++) await client.append(data(v, `m${i}`));
    const rest = await take(sub, 10);
    expect(texts([...first, ...rest])).toEqual(range(0, 15));
    expect(cluster.stats.consumerCreates.at(-1)).toMatchObject({ node: 1, request: { term: 2n } });
  });

  it('resumes after its node restarts', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(1);
    for (let i = 0; i < 6; i++) await client.append(data(v, `m${i}`));
    await using sub = client.subscribe({ vchannel: v, from: 'earliest' });
    const first = await take(sub, 3);
    await cluster.restartNode(1, 200);
    for (let i = 6; i < 9; i++) await client.append(data(v, `m${i}`));
    expect(texts([...first, ...(await take(sub, 6))])).toEqual(range(0, 9));
  });

  it("'latest' starts after what was appended before subscribe and survives a reconnect without a gap", async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    await client.append(data(v, 'old'));
    await using sub = client.subscribe({ vchannel: v, from: 'latest' });
    await eventually(() => cluster.stats.consumerCreates.length === 1, 2_000, 'consumer created');
    await sleep(20);
    cluster.tick('fake-dml_0'); // a time tick gives the subscription a position before any data
    await sleep(50);
    cluster.breakStreams();
    await client.append(data(v, 'new1'));
    await client.append(data(v, 'new2'));
    expect(texts(await take(sub, 2))).toEqual(['new1', 'new2']);
  });

  it('starts after a message id, or after a time tick', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await client.append(data(v, `m${i}`)));
    await using afterId = client.subscribe({ vchannel: v, from: { startAfter: results[2]!.id } });
    expect(texts(await take(afterId, 3))).toEqual(['m3', 'm4', 'm5']);
    await using afterTt = client.subscribe({ vchannel: v, from: { timeTickAfter: results[3]!.timeTick } });
    expect(texts(await take(afterTt, 2))).toEqual(['m4', 'm5']);
  });

  it('yields time ticks only when asked to', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    await client.append(data(v, 'a'));
    cluster.tick('fake-dml_0');
    await client.append(data(v, 'b'));
    await using plain = client.subscribe({ vchannel: v, from: 'earliest' });
    expect(texts(await take(plain, 2))).toEqual(['a', 'b']);
    await using ticks = client.subscribe({ vchannel: v, from: 'earliest', includeTimeTicks: true });
    expect((await take(ticks, 3)).map((m) => m.type)).toEqual([
      MessageType.Data,
      MessageType.TimeTick,
      MessageType.Data,
    ]);
  });

  it('backpressure: a consumer that stops iterating does not make the client read the stream', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    const payload = 'x'.repeat(1024);
    const total = 3_000;
    for (let i = 0; i < total; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => client.append(data(v, `${i + j}:${payload}`))));
    }
    await using sub = client.subscribe({ vchannel: v, from: 'earliest' });
    await take(sub, 1);
    await sleep(300);
    const written = cluster.stats.consumeMessagesWritten;
    // Bounded by grpc-js's 16-response buffer plus HTTP/2 windows, far below the log's 3000 × 1 KiB.
    expect(written).toBeLessThan(600);
    await sleep(200);
    expect(cluster.stats.consumeMessagesWritten).toBe(written);
    // Reading again drains it all, in order.
    const rest = await take(sub, total - 1);
    expect(rest.map((m) => Number(textOf(m).split(':')[0]))).toEqual(
      Array.from({ length: total - 1 }, (_, i) => i + 1),
    );
  });

  it('abort rejects a pending next() with the abort reason and closes the stream', async () => {
    await using client = await connectTo(cluster);
    const controller = new AbortController();
    const sub = client.subscribe({ vchannel: cluster.vchannel(0), from: 'earliest', signal: controller.signal });
    const pending = sub.next();
    await sleep(50);
    const reason = new Error('stop reading');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(sub.next()).rejects.toBe(reason);
  });

  it('close (or break in for-await, or closing the client) ends iteration', async () => {
    const client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    for (let i = 0; i < 3; i++) await client.append(data(v, `m${i}`));
    const seen: string[] = [];
    for await (const m of client.subscribe({ vchannel: v, from: 'earliest' })) {
      seen.push(textOf(m));
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['m0', 'm1']);
    const sub = client.subscribe({ vchannel: v, from: 'latest' });
    const pending = sub.next();
    await client.close();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await sub.close();
  });

  it('a bad start position is a non-retriable error from next()', async () => {
    await using client = await connectTo(cluster);
    const sub = client.subscribe({ vchannel: 'elsewhere-dml_0_1v0', from: 'earliest' });
    await expect(sub.next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => client.subscribe({ vchannel: 'not a vchannel' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
