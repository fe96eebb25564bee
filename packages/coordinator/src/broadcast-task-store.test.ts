import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { decodeBroadcastMessage, MessageBuilder, ResourceDomain, StreamingError } from '@streamsvc/message';
import type { BroadcastMutableMessage } from '@streamsvc/message';
import { EmbeddedMetaKv, MetaKvError, MetaKvErrorCode } from '@streamsvc/metastore';
import type { Compare, MetaKv } from '@streamsvc/metastore';

import { BroadcastTaskStore } from './broadcast-task-store.js';

const PREFIX = 'test/coord/';
const LEADER = 'test/coord/leader';
const VCHANNELS = ['by-dev-dml_0_449v0', 'by-dev-dml_1_449v1', 'by-dev-dml_2_449v2'];

function broadcast(id: bigint, vchannels = VCHANNELS): BroadcastMutableMessage {
  return MessageBuilder.dropCollection()
    .header({ collectionId: 449n })
    .body({ collectionName: 'docs' })
    .broadcast(vchannels, { resourceKeys: [{ domain: ResourceDomain.CollectionName, key: 'docs', shared: false }] })
    .build()
    .withBroadcastId(id);
}

const result = (n: number) => ({
  messageId: `m${n}`,
  timeTick: BigInt(n) * 1_000_000_000_000n,
  lastConfirmed: `m${n}`,
});

/** A MetaKV whose next transactions are applied and then reported as failed, like a reply lost on the wire. */
class LostReplyKv implements MetaKv {
  readonly kind = 'lost-reply';
  loseReplies = 0;

  constructor(readonly inner: MetaKv) {}

  get: MetaKv['get'] = (...a) => this.inner.get(...a);
  put: MetaKv['put'] = (...a) => this.inner.put(...a);
  delete: MetaKv['delete'] = (...a) => this.inner.delete(...a);
  deletePrefix: MetaKv['deletePrefix'] = (...a) => this.inner.deletePrefix(...a);
  list: MetaKv['list'] = (...a) => this.inner.list(...a);
  watch: MetaKv['watch'] = (...a) => this.inner.watch(...a);
  grantLease: MetaKv['grantLease'] = (...a) => this.inner.grantLease(...a);
  revokeLease: MetaKv['revokeLease'] = (...a) => this.inner.revokeLease(...a);
  revision: MetaKv['revision'] = (...a) => this.inner.revision(...a);
  close: MetaKv['close'] = () => this.inner.close();
  [Symbol.asyncDispose] = (): Promise<void> => this.inner.close();

  txn: MetaKv['txn'] = async (...a) => {
    const r = await this.inner.txn(...a);
    if (this.loseReplies > 0) {
      this.loseReplies--;
      throw new MetaKvError(MetaKvErrorCode.UNAVAILABLE, 'reply lost');
    }
    return r;
  };
}

describe('BroadcastTaskStore', () => {
  let dir: string;
  let kv: EmbeddedMetaKv;
  let guard: () => readonly Compare[];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'broadcast-task-store-'));
    kv = await EmbeddedMetaKv.open({ path: dir });
    const { revision } = await kv.put(LEADER, 'coordinator-1');
    guard = () => [{ key: LEADER, target: 'createRevision', op: '==', value: revision }];
  });

  afterEach(async () => {
    await kv.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('persists a task as JSON with the message in base64 and a null result per vchannel', async () => {
    const store = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    const task = await store.create(broadcast(42n), { createdAtMs: 1234 });
    expect(task.key).toBe('test/coord/broadcast/tasks/00000000000000000042');
    const stored = JSON.parse(Buffer.from((await kv.get(task.key))!.value).toString('utf8')) as Record<string, unknown>;
    expect(stored).toEqual({
      broadcastId: '42',
      message: expect.any(String) as unknown,
      results: Object.fromEntries(VCHANNELS.map((v) => [v, null])),
      createdAtMs: 1234,
    });
    const message = decodeBroadcastMessage(Buffer.from(stored['message'] as string, 'base64'));
    expect(message.broadcastHeader.broadcastId).toBe(42n);
    expect(message.vchannels).toEqual(VCHANNELS);
  });

  it('persists the request that started a task and loads it back, so retries still match after a takeover', async () => {
    const store = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    const request = { id: 'req-1', fingerprint: 'ab'.repeat(32) };
    const task = await store.create(broadcast(43n), { createdAtMs: 1, request });
    const stored = JSON.parse(Buffer.from((await kv.get(task.key))!.value).toString('utf8')) as Record<string, unknown>;
    expect(stored['request']).toEqual(request);
    const [loaded] = await new BroadcastTaskStore({ kv, prefix: PREFIX, guard }).loadAll();
    expect(loaded!.request).toEqual(request);
  });

  it('marks a task finished, keeping its results, and the next store loads it as finished and can delete it', async () => {
    const store = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    const request = { id: 'req-2', fingerprint: 'cd'.repeat(32) };
    await store.create(broadcast(44n), { createdAtMs: 1, request });
    for (const [i, v] of VCHANNELS.entries()) await store.recordResult(44n, v, result(i));
    expect((await store.loadAll())[0]!.finishedAtMs).toBeUndefined();
    await store.markFinished(44n, 5);
    const next = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    const [loaded] = await next.loadAll();
    expect(loaded!.finishedAtMs).toBe(5);
    expect(loaded!.request).toEqual(request);
    expect([...loaded!.results.values()]).toEqual(VCHANNELS.map((_, i) => result(i)));
    await next.delete(44n);
    expect(await next.loadAll()).toEqual([]);
  });

  it('records results, including ones that land together, and loads them back after a restart', async () => {
    const store = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    await store.create(broadcast(7n), { createdAtMs: 1 });
    await Promise.all([
      store.recordResult(7n, VCHANNELS[0]!, result(1)),
      store.recordResult(7n, VCHANNELS[2]!, result(3)),
    ]);
    const [task] = await new BroadcastTaskStore({ kv, prefix: PREFIX, guard }).loadAll();
    expect(task!.broadcastId).toBe(7n);
    expect(task!.createdAtMs).toBe(1);
    expect(task!.message.broadcastHeader.resourceKeys).toEqual([
      { domain: ResourceDomain.CollectionName, key: 'docs', shared: false },
    ]);
    expect([...task!.results]).toEqual([
      [VCHANNELS[0], result(1)],
      [VCHANNELS[1], undefined],
      [VCHANNELS[2], result(3)],
    ]);
  });

  it('loads tasks in broadcast id order and continues writing the ones it loaded', async () => {
    const first = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    await first.create(broadcast(10n), { createdAtMs: 1 });
    await first.create(broadcast(9n), { createdAtMs: 1 });
    const second = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    expect((await second.loadAll()).map((t) => t.broadcastId)).toEqual([9n, 10n]);
    await second.recordResult(10n, VCHANNELS[1]!, result(2));
    await second.delete(9n);
    expect((await second.loadAll()).map((t) => t.broadcastId)).toEqual([10n]);
    expect(await kv.get(second.keyOf(9n))).toBeUndefined();
  });

  it('fails with COORDINATOR_NOT_ACTIVE once the leadership guard fails, and then writes nothing more', async () => {
    const store = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    await store.create(broadcast(5n), { createdAtMs: 1 });
    await kv.delete(LEADER);
    await kv.put(LEADER, 'coordinator-2');
    const revision = await kv.revision();
    const lost = await store.recordResult(5n, VCHANNELS[0]!, result(1)).catch((e: unknown) => e);
    expect(StreamingError.is(lost, 'COORDINATOR_NOT_ACTIVE')).toBe(true);
    expect((lost as Error).message).toContain('leadership guard failed');
    expect(store.lost).toBe(lost);
    await expect(store.delete(5n)).rejects.toBe(lost);
    await expect(store.create(broadcast(6n), { createdAtMs: 1 })).rejects.toBe(lost);
    await expect(store.checkActive()).rejects.toBe(lost);
    expect(await kv.revision()).toBe(revision);
    expect(await kv.get(store.keyOf(5n))).toBeDefined();
  });

  it('fails with COORDINATOR_NOT_ACTIVE when someone else changed the task behind its back', async () => {
    const store = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    const task = await store.create(broadcast(5n), { createdAtMs: 1 });
    await kv.put(task.key, (await kv.get(task.key))!.value);
    const e = await store.recordResult(5n, VCHANNELS[0]!, result(1)).catch((x: unknown) => x);
    expect(StreamingError.is(e, 'COORDINATOR_NOT_ACTIVE')).toBe(true);
    expect((e as Error).message).toContain('changed by someone else');
  });

  it('checks the guard without writing', async () => {
    const store = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    const revision = await kv.revision();
    await store.checkActive();
    expect(await kv.revision()).toBe(revision);
    await kv.delete(LEADER);
    await expect(store.checkActive()).rejects.toThrow(/no longer the active one/);
  });

  it('recognises its own write when the reply to it was lost, and goes on', async () => {
    const lossy = new LostReplyKv(kv);
    const store = new BroadcastTaskStore({ kv: lossy, prefix: PREFIX, guard });
    lossy.loseReplies = 1;
    await expect(store.create(broadcast(3n), { createdAtMs: 1 })).rejects.toThrow('reply lost');
    await store.create(broadcast(3n), { createdAtMs: 1 });
    lossy.loseReplies = 1;
    await expect(store.recordResult(3n, VCHANNELS[0]!, result(1))).rejects.toThrow('reply lost');
    await store.recordResult(3n, VCHANNELS[1]!, result(2));
    const [task] = await new BroadcastTaskStore({ kv, prefix: PREFIX, guard }).loadAll();
    expect(task!.results.get(VCHANNELS[0]!)).toEqual(result(1));
    expect(task!.results.get(VCHANNELS[1]!)).toEqual(result(2));
    lossy.loseReplies = 1;
    await expect(store.delete(3n)).rejects.toThrow('reply lost');
    await store.delete(3n);
    expect(await store.loadAll()).toEqual([]);
  });

  it('refuses a task it cannot decode with UNRECOVERABLE naming its key', async () => {
    const store = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    await kv.put(store.keyOf(8n), '{"broadcastId":"8","message":"bm90IGEgbWVzc2FnZQ=="}');
    const e = await store.loadAll().catch((x: unknown) => x);
    expect(StreamingError.is(e, 'UNRECOVERABLE')).toBe(true);
    expect((e as Error).message).toContain(store.keyOf(8n));
  });

  it('refuses results for a vchannel the broadcast does not name or a task it does not track', async () => {
    const store = new BroadcastTaskStore({ kv, prefix: PREFIX, guard });
    await store.create(broadcast(4n), { createdAtMs: 1 });
    await expect(store.recordResult(4n, 'by-dev-dml_9_1v0', result(1))).rejects.toThrow(/does not target/);
    await expect(store.recordResult(99n, VCHANNELS[0]!, result(1))).rejects.toThrow(/no pending broadcast task 99/);
    const withoutId = MessageBuilder.dropCollection()
      .header({ collectionId: 1n })
      .body({ collectionName: 'x' })
      .broadcast(VCHANNELS)
      .build();
    await expect(store.create(withoutId, { createdAtMs: 1 })).rejects.toThrow(/needs a broadcast id/);
  });
});
