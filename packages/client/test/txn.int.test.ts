import { MessageBuilder, MessageType, StreamingError } from '@streamsvc/message';

import { FakeCluster } from './support/fake-cluster.js';
import { connectTo, data, take, textOf } from './support/helpers.js';

describe('transactions', () => {
  let cluster: FakeCluster;
  beforeEach(async () => {
    cluster = await FakeCluster.start({ pchannels: 2, nodes: 1 });
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('appends BeginTxn, bodies carrying the txn context, and CommitTxn; readers get one Txn message', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    const txn = await client.txn({ vchannel: v, keepaliveMs: 5_000 });
    expect(txn.context).toEqual({ txnId: 1n, keepaliveMs: 5_000 });
    const original = data(v, 'a');
    await txn.append(original);
    await txn.append(data(v, 'b'));
    expect(original.txnContext).toBeUndefined(); // the caller's message is left alone
    const commit = await txn.commit();
    expect(txn.state).toBe('committed');

    const stored = cluster.stored(v);
    expect(stored.map((m) => m.type)).toEqual([
      MessageType.BeginTxn,
      MessageType.Data,
      MessageType.Data,
      MessageType.CommitTxn,
    ]);
    expect(stored.map((m) => m.txnContext)).toEqual(Array(4).fill({ txnId: 1n, keepaliveMs: 5_000 }));
    expect(stored.at(-1)!.id.equals(commit.id)).toBe(true);

    await using sub = client.subscribe({ vchannel: v, from: 'earliest' });
    const [m] = await take(sub, 1);
    expect(m!.type).toBe(MessageType.Txn);
    expect(textOf(m!)).toBe('a+b');
    expect(m!.timeTick).toBe(commit.timeTick);
  });

  it('appendMany wraps the messages in one txn, in order, and returns every result and the commit', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(1);
    const messages = ['x', 'y', 'z'].map((t) => data(v, t));
    const result = await client.appendMany(v, messages);
    expect(result.results).toHaveLength(3);
    const stored = cluster.stored(v);
    expect(stored.map((m) => m.typeName)).toEqual(['BeginTxn', 'Data', 'Data', 'Data', 'CommitTxn']);
    expect(stored.slice(1, 4).map((m) => new TextDecoder().decode(m.payload))).toEqual(['x', 'y', 'z']);
    expect(stored.every((m) => m.txnContext?.txnId === result.txnId)).toBe(true);
    expect(stored[4]!.id.equals(result.commit.id)).toBe(true);
    result.results.forEach((r, i) => expect(r.id.equals(stored[i + 1]!.id)).toBe(true));
  });

  it('appendMany rejects a mixed-vchannel or non-body batch before appending anything', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    await expect(client.appendMany(v, [data(v, 'a'), data(cluster.vchannel(1), 'b')])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const ddl = MessageBuilder.dropCollection().header({ collectionId: 1n }).body({}).vchannel(v).build();
    await expect(client.appendMany(v, [ddl])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.appendMany(v, [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(cluster.stats.produceRequests).toBe(0);
  });

  it('commit and rollback happen once; appends after them are refused', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    const txn = await client.txn({ vchannel: v });
    await txn.commit();
    await expect(txn.commit()).rejects.toMatchObject({ code: 'INVALID_TRANSACTION_STATE' });
    await expect(txn.rollback()).rejects.toMatchObject({ code: 'INVALID_TRANSACTION_STATE' });
    await expect(txn.append(data(v, 'late'))).rejects.toMatchObject({ code: 'INVALID_TRANSACTION_STATE' });

    const other = await client.txn({ vchannel: v });
    await other.append(data(v, 'dropped'));
    await other.rollback();
    expect(other.state).toBe('rolled-back');
    expect(cluster.stored(v).at(-1)!.typeName).toBe('RollbackTxn');
  });

  it('refuses a body on another vchannel, and a commit after a failed body append rolls back instead', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    const txn = await client.txn({ vchannel: v });
    await expect(txn.append(data(cluster.vchannel(0, 9n), 'x'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    cluster.injectErrors('fake-dml_0', [new StreamingError('TRANSACTION_EXPIRED', 'keepalive passed')]);
    await expect(txn.append(data(v, 'lost'))).rejects.toMatchObject({ code: 'TRANSACTION_EXPIRED' });
    const e = await txn.commit().catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'INVALID_TRANSACTION_STATE' });
    expect((e as StreamingError).cause).toMatchObject({ code: 'TRANSACTION_EXPIRED' });
    expect(txn.state).toBe('rolled-back');
    expect(cluster.stored(v).map((m) => m.typeName)).toEqual(['BeginTxn', 'RollbackTxn']);
  });

  it('commit waits for body appends still in flight', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    const txn = await client.txn({ vchannel: v });
    const release = cluster.hold();
    const body = txn.append(data(v, 'slow'));
    const committing = txn.commit();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(txn.state).toBe('committing');
    release();
    await body;
    await committing;
    expect(cluster.stored(v).map((m) => m.typeName)).toEqual(['BeginTxn', 'Data', 'CommitTxn']);
  });

  it('await using rolls back a transaction left open', async () => {
    await using client = await connectTo(cluster);
    const v = cluster.vchannel(0);
    {
      await using txn = await client.txn({ vchannel: v });
      await txn.append(data(v, 'abandoned'));
    }
    expect(cluster.stored(v).map((m) => m.typeName)).toEqual(['BeginTxn', 'Data', 'RollbackTxn']);
  });
});

describe('coordinator calls', () => {
  let cluster: FakeCluster;
  beforeEach(async () => {
    cluster = await FakeCluster.start({ pchannels: 2, nodes: 2 });
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('broadcast appends to every named vchannel and returns the per-vchannel results', async () => {
    await using client = await connectTo(cluster);
    const vchannels = [cluster.vchannel(0, 5n), cluster.vchannel(1, 5n)];
    const message = MessageBuilder.dropCollection().header({ collectionId: 5n }).body({}).broadcast(vchannels).build();
    const result = await client.broadcast(message);
    expect(result.broadcastId).toBe(1n);
    expect([...result.results.keys()].sort()).toEqual(vchannels);
    expect(result.results.get(vchannels[0]!)).toMatchObject({ messageId: 'v1:0', lastConfirmed: 'v1:0' });
    expect(cluster.stored(vchannels[1]!).map((m) => m.typeName)).toEqual(['DropCollection']);
  });

  it('a broadcast whose first attempt outlives the call deadline is retried with the same request id, so it is applied once (regression: "collection already exists" after a slow WAL)', async () => {
    await using client = await connectTo(cluster, { callTimeoutMs: 200 });
    const vchannels = [cluster.vchannel(0, 6n), cluster.vchannel(1, 6n)];
    const message = () =>
      MessageBuilder.dropCollection().header({ collectionId: 6n }).body({}).broadcast(vchannels).build();
    cluster.coordinator.answerNextBroadcastLate(1_000);
    const result = await client.broadcast(message());
    const [first, retry] = cluster.coordinator.broadcastRequestIds;
    expect(cluster.coordinator.broadcastRequestIds).toHaveLength(2);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(retry).toBe(first);
    expect(result.broadcastId).toBe(1n);
    expect(cluster.stored(vchannels[0]!).map((m) => m.typeName)).toEqual(['DropCollection']);
    // A new call is a new broadcast, with an id of its own.
    await client.broadcast(message());
    expect(cluster.coordinator.broadcastRequestIds[2]).not.toBe(first);
    expect(cluster.stored(vchannels[0]!).map((m) => m.typeName)).toEqual(['DropCollection', 'DropCollection']);
  });

  it('a broadcast answered OUTCOME_UNKNOWN (the coordinator stopped mid-broadcast) is retried with its request id and gets the outcome of the one that was applied', async () => {
    await using client = await connectTo(cluster);
    const vchannels = [cluster.vchannel(0, 7n), cluster.vchannel(1, 7n)];
    cluster.coordinator.failNextBroadcastAfterApplying('OUTCOME_UNKNOWN');
    const before = cluster.coordinator.broadcastRequestIds.length;
    const result = await client.broadcast(
      MessageBuilder.dropCollection().header({ collectionId: 7n }).body({}).broadcast(vchannels).build(),
    );
    const ids = cluster.coordinator.broadcastRequestIds.slice(before);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
    expect(cluster.stored(vchannels[0]!).map((m) => m.typeName)).toEqual(['DropCollection']);
    expect(cluster.stored(vchannels[1]!).map((m) => m.typeName)).toEqual(['DropCollection']);
    expect([...result.results.keys()].sort()).toEqual([...vchannels].sort());
  });

  it('allocateTimestamp returns increasing timestamps, and an unimplemented service is a non-retriable error', async () => {
    await using client = await connectTo(cluster);
    const a = await client.allocateTimestamp();
    const b = await client.allocateTimestamp();
    expect(b).toBeGreaterThan(a);
    // Node 1 serves no coordinator services: UNIMPLEMENTED is not worth retrying.
    await using stray = await connectTo(cluster, { endpoint: cluster.address(1) });
    await expect(stray.allocateTimestamp()).rejects.toMatchObject({
      code: 'UNKNOWN',
      retriable: false,
      message: expect.stringContaining('UNIMPLEMENTED'),
    });
  });

  it('a broadcast the coordinator rejects surfaces INVALID_ARGUMENT', async () => {
    await using client = await connectTo(cluster);
    const bogus = { properties: new Map(), payload: new Uint8Array() };
    await expect(client.broadcast(bogus as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
