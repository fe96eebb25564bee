import { MessageType, StreamingError } from '@streamsvc/message';
import type { AnyImmutableMessage, ImmutableMessage } from '@streamsvc/message';

import { MemoryLogger } from '@streamsvc/common';

import { MetaKvCheckpointStore, Wal, decodeCheckpoint, encodeCheckpoint } from '../src/index.js';
import type { AppendResult, CheckpointKv } from '../src/index.js';
import { FakeLogStore, fakeIds } from './support/fake-backend.js';
import {
  PCHANNEL,
  beginTxn,
  commitTxn,
  createCollection,
  data,
  dropCollection,
  insert,
  rollbackTxn,
  testTso,
  vchannelOf,
  within,
} from './support/fixtures.js';

const V1 = vchannelOf(1n);
const V2 = vchannelOf(2n);
const config = { timeTickIntervalMs: 20 };

async function openWal(
  store: FakeLogStore,
  term = 1n,
  extra: Partial<Parameters<typeof Wal.open>[0]> = {},
): Promise<Wal> {
  return Wal.open({ opener: store, pchannel: PCHANNEL, term, tso: testTso(), config, ...extra });
}

/** A fake log and an in-memory checkpoint store, with what the tests read back from them. */
function checkpointRig(): {
  store: FakeLogStore;
  saved: Map<string, string>;
  checkpoints: MetaKvCheckpointStore;
  logger: MemoryLogger;
  open: (term: bigint, config?: Parameters<typeof Wal.open>[0]['config']) => Promise<Wal>;
  savedPosition: () => bigint | undefined;
  replayed: (term: bigint) => { replayed: number; fromCheckpoint: boolean };
} {
  const store = new FakeLogStore();
  const saved = new Map<string, string>();
  const kv: CheckpointKv = {
    get: async (key) => (saved.has(key) ? { value: new TextEncoder().encode(saved.get(key)) } : undefined),
    put: async (key, value) => void saved.set(key, value),
  };
  const logger = new MemoryLogger();
  const checkpoints = new MetaKvCheckpointStore({ kv, prefix: 'cp/', ids: fakeIds });
  return {
    store,
    saved,
    checkpoints,
    logger,
    open: (term, walConfig) =>
      openWal(store, term, { checkpoints, logger, ...(walConfig ? { config: walConfig } : {}) }),
    savedPosition: () => {
      const text = saved.get(`cp/${PCHANNEL}`);
      return text === undefined ? undefined : fakeIds.parse(decodeCheckpoint(text, fakeIds).position.toString()).offset;
    },
    replayed: (term) => {
      const r = logger.records.find((l) => l.msg === 'wal recovered' && l.fields['term'] === String(term))!;
      return { replayed: r.fields['replayed'] as number, fromCheckpoint: r.fields['fromCheckpoint'] as boolean };
    },
  };
}

/** Reads from `wal` until `stop` says so; fails after 10 s. */
async function readUntil(
  wal: Wal,
  options: Parameters<Wal['read']>[0],
  stop: (m: AnyImmutableMessage, all: AnyImmutableMessage[]) => boolean,
): Promise<AnyImmutableMessage[]> {
  const scanner = wal.read(options);
  const got: AnyImmutableMessage[] = [];
  await within(
    (async () => {
      for await (const m of scanner) {
        got.push(m);
        if (stop(m, got)) break;
      }
    })(),
    10_000,
    `reader (got ${got.length})`,
  );
  await scanner.close();
  return got;
}

const dataOnly = (ms: AnyImmutableMessage[]): AnyImmutableMessage[] =>
  ms.filter((m) => m.type !== MessageType.TimeTick);
const text = (m: AnyImmutableMessage): string => new TextDecoder().decode((m as ImmutableMessage).payload);
const rejectsWith = async (p: Promise<unknown>, code: string): Promise<StreamingError> => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(StreamingError.is(e, code as never)).toBe(true);
  return e as StreamingError;
};

describe('Wal', () => {
  it('delivers concurrent appends to a reader in strict time-tick order, each exactly once', async () => {
    const store = new FakeLogStore();
    store.delay = () => Math.floor(Math.random() * 5); // completion order ≠ call order
    await using wal = await openWal(store);
    await wal.append(createCollection(V1, 1n));
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append(data(V1, `m${i}`))));
    const last = results.reduce((a, b) => (a.timeTick > b.timeTick ? a : b));
    const got = dataOnly(
      await readUntil(wal, { policy: { kind: 'all' }, vchannel: V1 }, (m) => m.timeTick >= last.timeTick),
    );
    expect(got.length).toBe(201);
    for (let i = 1; i < got.length; i++) expect(got[i]!.timeTick > got[i - 1]!.timeTick).toBe(true);
    expect(new Set(got.slice(1).map(text)).size).toBe(200);
  });

  it('serves a tailing reader from the write-ahead buffer after it catches up', async () => {
    const store = new FakeLogStore();
    await using wal = await openWal(store);
    await wal.append(createCollection(V1, 1n));
    const scanner = wal.read({ policy: { kind: 'all' }, vchannel: V1 });
    const it = scanner[Symbol.asyncIterator]();
    const first = await within(it.next(), 5000, 'first message');
    expect(first.value?.type).toBe(MessageType.TimeTick);
    let seen: AnyImmutableMessage | undefined;
    const appended = await wal.append(data(V1, 'tail'));
    while (seen?.timeTick !== appended.timeTick) seen = (await within(it.next(), 5000, 'tail message')).value;
    expect(scanner.stats.switches).toBeGreaterThanOrEqual(1);
    await scanner.close();
  });

  it('delivers an append to a tailing reader as soon as it is durable, while a later one is still being written', async () => {
    const store = new FakeLogStore();
    store.delay = (m) => (new TextDecoder().decode(m.payload) === 'slow' ? 3_000 : 0);
    await using wal = await openWal(store);
    await wal.append(createCollection(V1, 1n));
    const scanner = wal.read({ policy: { kind: 'latest' }, vchannel: V1 });
    const it = scanner[Symbol.asyncIterator]();
    const fast = wal.append(data(V1, 'fast'));
    const slow = wal.append(data(V1, 'slow')); // allocated after 'fast', durable 3 s later
    let slowDone = false;
    void slow.then(() => (slowDone = true));
    const fastTt = (await fast).timeTick;
    let seen: AnyImmutableMessage | undefined;
    while (seen?.timeTick !== fastTt) seen = (await within(it.next(), 1_000, "'fast' at the reader")).value;
    expect(slowDone).toBe(false);
    // The tick that published it sits between the two: it came next, and 'slow' comes after it.
    const tick = (await within(it.next(), 1_000, 'the tick')).value!;
    expect(tick.type).toBe(MessageType.TimeTick);
    expect(tick.timeTick).toBeGreaterThan(fastTt);
    expect(tick.timeTick).toBeLessThan((await slow).timeTick);
    await scanner.close();
  });

  it('falls back to the backend when the buffer evicted a slow reader, without gaps or duplicates', async () => {
    const store = new FakeLogStore();
    await using wal = await openWal(store, 1n, {
      config: { ...config, writeAheadBuffer: { capacityBytes: 2000, keepaliveMs: 30_000 } },
    });
    await wal.append(createCollection(V1, 1n));
    const scanner = wal.read({ policy: { kind: 'latest' }, vchannel: V1 });
    const it = scanner[Symbol.asyncIterator]();
    const sent: AppendResult[] = [];
    for (let i = 0; i < 50; i++) sent.push(await wal.append(data(V1, `x${i}`.padEnd(100, '.'))));
    const got: AnyImmutableMessage[] = [];
    while (got.length < 50) {
      const next = await within(it.next(), 5000, 'slow reader');
      if (next.value && next.value.type !== MessageType.TimeTick) got.push(next.value);
    }
    expect(got.map((m) => m.timeTick)).toEqual(sent.map((r) => r.timeTick));
    expect(scanner.stats.fallbacks).toBeGreaterThanOrEqual(1);
    await scanner.close();
  });

  it('delivers a committed txn as one message at its commit tick, and never a rolled-back or expired one', async () => {
    const store = new FakeLogStore();
    await using wal = await openWal(store);
    await wal.append(createCollection(V1, 1n));
    const committed = await wal.append(beginTxn(V1, 5000));
    const txnId = committed.txnContext!.txnId;
    await Promise.all([1, 2, 3].map((i) => wal.append(data(V1, `body${i}`).withTxnContext({ txnId }))));
    const commit = await wal.append(commitTxn(V1, txnId, { tag: 'c' }));
    const rolled = (await wal.append(beginTxn(V1, 5000))).txnContext!.txnId;
    await wal.append(data(V1, 'never').withTxnContext({ txnId: rolled }));
    await wal.append(rollbackTxn(V1, rolled));
    const expiring = (await wal.append(beginTxn(V1, 30))).txnContext!.txnId;
    await wal.append(data(V1, 'expired').withTxnContext({ txnId: expiring }));
    await new Promise((r) => setTimeout(r, 80));
    await rejectsWith(wal.append(commitTxn(V1, expiring)), 'TRANSACTION_EXPIRED');
    const marker = await wal.append(data(V1, 'end'));
    const got = dataOnly(
      await readUntil(wal, { policy: { kind: 'all' }, vchannel: V1 }, (m) => m.timeTick >= marker.timeTick),
    );
    const txns = got.filter((m) => m.type === MessageType.Txn);
    expect(txns).toHaveLength(1);
    const txn = txns[0]!;
    expect(txn.timeTick).toBe(commit.timeTick);
    expect(txn.type === MessageType.Txn && txn.body.map(text).sort()).toEqual(['body1', 'body2', 'body3']);
    expect(got.map((m) => (m.type === MessageType.Data ? text(m) : m.type))).not.toContain('never');
    expect(got.map((m) => (m.type === MessageType.Data ? text(m) : m.type))).not.toContain('expired');
  });

  it('refuses everything on a vchannel before CreateCollection and after DropCollection, writing nothing', async () => {
    const store = new FakeLogStore();
    await using wal = await openWal(store);
    const before = store.dataAppends;
    await rejectsWith(wal.append(insert(V1, 1n, 1n, [1n])), 'VCHANNEL_NOT_EXIST');
    await rejectsWith(wal.append(data(V1, 'x')), 'VCHANNEL_NOT_EXIST');
    await wal.append(createCollection(V1, 1n));
    await rejectsWith(wal.append(insert(V1, 1n, 9n, [1n])), 'PARTITION_NOT_EXIST');
    await rejectsWith(wal.append(createCollection(V1, 1n)), 'INVALID_ARGUMENT');
    await wal.append(insert(V1, 1n, 1n, [1n, 2n]));
    await wal.append(dropCollection(V1, 1n));
    const afterDrop = store.dataAppends;
    const dropped = await rejectsWith(wal.append(insert(V1, 1n, 1n, [3n])), 'VCHANNEL_DROPPED');
    expect(dropped.message).toContain(V1);
    await rejectsWith(wal.append(dropCollection(V1, 1n)), 'VCHANNEL_DROPPED');
    await rejectsWith(wal.append(createCollection(V1, 1n)), 'VCHANNEL_DROPPED');
    expect(store.dataAppends - afterDrop).toBe(0);
    expect(afterDrop - before).toBe(3);
    // The WAL keeps serving other vchannels.
    await wal.append(createCollection(V2, 2n));
    await wal.append(data(V2, 'still serving'));
  });

  it('rejects bad input with INVALID_ARGUMENT and keeps serving', async () => {
    const store = new FakeLogStore();
    await using wal = await openWal(store, 1n, { config: { ...config, maxMessageBytes: 4096 } });
    await wal.append(createCollection(V1, 1n));
    const tooBig = await rejectsWith(wal.append(data(V1, 'x'.repeat(5000))), 'INVALID_ARGUMENT');
    expect(tooBig.message).toMatch(/exceeds the limit of 4096 bytes/);
    await rejectsWith(wal.append(data(vchannelOf(1n, 'other-dml_3'), 'x')), 'INVALID_ARGUMENT');
    await rejectsWith(wal.append(data(V1, 'x').withTxnContext({ txnId: 42n })), 'INVALID_TRANSACTION_STATE');
    await rejectsWith(wal.append(commitTxn(V1, 42n)), 'INVALID_TRANSACTION_STATE');
    await wal.append(data(V1, 'fine'));
  });

  it('makes an older owner fail with CHANNEL_FENCED once a newer term opened the pchannel', async () => {
    const store = new FakeLogStore();
    const old = await openWal(store, 1n);
    await old.append(createCollection(V1, 1n));
    await using fresh = await openWal(store, 2n);
    await rejectsWith(old.append(data(V1, 'stale')), 'CHANNEL_FENCED');
    await rejectsWith(old.append(data(V1, 'stale again')), 'CHANNEL_FENCED');
    expect(old.available).toBe(false);
    await fresh.append(data(V1, 'new owner'));
    await old.close();
  });

  it('rebuilds vchannels and open txns on reopen, so the new term accepts exactly what the old one did', async () => {
    const store = new FakeLogStore();
    const first = await openWal(store, 1n);
    await first.append(createCollection(V1, 1n));
    await first.append(createCollection(V2, 2n));
    await first.append(dropCollection(V2, 2n));
    const txnId = (await first.append(beginTxn(V1, 60_000))).txnContext!.txnId;
    await first.append(data(V1, 'in txn').withTxnContext({ txnId }));
    await first.close();
    await using second = await openWal(store, 2n);
    await second.append(data(V1, 'after reopen'));
    await rejectsWith(second.append(data(V2, 'x')), 'VCHANNEL_DROPPED');
    const commit = await second.append(commitTxn(V1, txnId));
    const got = dataOnly(
      await readUntil(second, { policy: { kind: 'all' }, vchannel: V1 }, (m) => m.timeTick >= commit.timeTick),
    );
    const txn = got.find((m) => m.type === MessageType.Txn);
    expect(txn && txn.type === MessageType.Txn && txn.body.map(text)).toEqual(['in txn']);
  });

  it('with a checkpoint store, replays only what was written since the last open and rebuilds the same state', async () => {
    const { saved, open, replayed } = checkpointRig();
    const waitSaved = async (term: bigint): Promise<void> => {
      for (let i = 0; i < 200 && decodeCheckpointTerm(saved.get(`cp/${PCHANNEL}`)) !== term; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const decodeCheckpointTerm = (text: string | undefined): bigint | undefined =>
      text === undefined ? undefined : decodeCheckpoint(text, fakeIds).term;

    const first = await open(1n);
    await first.append(createCollection(V1, 1n));
    await first.append(createCollection(V2, 2n));
    await first.append(dropCollection(V2, 2n));
    const txnId = (await first.append(beginTxn(V1, 60_000))).txnContext!.txnId;
    await first.append(data(V1, 'in txn').withTxnContext({ txnId }));
    for (let i = 0; i < 40; i++) await first.append(data(V1, `t1-${i}`));
    await first.close();
    await waitSaved(1n);
    const second = await open(2n);
    await second.append(data(V1, 'in term 2'));
    await second.close();
    await waitSaved(2n);
    // The checkpoint term 2 saved holds what terms 1 wrote: V2 dropped, the txn open with its begin id.
    const stored = decodeCheckpoint(saved.get(`cp/${PCHANNEL}`)!, fakeIds);
    expect(decodeCheckpoint(encodeCheckpoint(stored), fakeIds)).toEqual(stored);
    expect(stored.vchannels.map((v) => [v.vchannel, v.state])).toEqual([
      [V1, 'live'],
      [V2, 'dropped'],
    ]);
    expect(stored.openTxns.map((t) => t.txnId)).toEqual([txnId]);

    await using third = await open(3n);
    // Term 1's closing checkpoint cannot pass the txn it left open: replay starts at its BeginTxn.
    expect(replayed(2n).replayed).toBeGreaterThan(40);
    expect(replayed(3n)).toEqual({ replayed: expect.any(Number), fromCheckpoint: true });
    expect(replayed(3n).replayed).toBeLessThan(10); // term 2's few records only
    await rejectsWith(third.append(data(V2, 'x')), 'VCHANNEL_DROPPED');
    const commit = await third.append(commitTxn(V1, txnId));
    const got = dataOnly(
      await readUntil(third, { policy: { kind: 'all' }, vchannel: V1 }, (m) => m.timeTick >= commit.timeTick),
    );
    const txn = got.find((m) => m.type === MessageType.Txn);
    expect(txn && txn.type === MessageType.Txn && txn.body.map(text)).toEqual(['in txn']);
  });

  describe('while the owner lives', () => {
    const waitFor = async (what: string, ok: () => boolean): Promise<void> => {
      for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
      if (!ok()) throw new Error(`timed out waiting for ${what}`);
    };

    it('moves the checkpoint periodically, so an owner taking over after a crash replays only the rest', async () => {
      const t = checkpointRig();
      const first = await t.open(1n, { ...config, recoveryCheckpointIntervalMs: 30 });
      await first.append(createCollection(V1, 1n));
      for (let i = 0; i < 50; i++) await first.append(data(V1, `d${i}`));
      const written = BigInt(t.store.log(PCHANNEL).records.length);
      await waitFor('a checkpoint past the data', () => (t.savedPosition() ?? 0n) >= written - 2n);
      // No close: the next owner fences this one, as after a crash.
      await using second = await t.open(2n);
      expect(t.replayed(2n).fromCheckpoint).toBe(true);
      expect(t.replayed(2n).replayed).toBeLessThan(10);
      await second.append(data(V1, 'V1 is still live'));
      await rejectsWith(second.append(createCollection(V1, 1n)), 'INVALID_ARGUMENT');
      await first.close();
    });

    it('reads only around DDL: a checkpoint after thousands of data records replays a handful', async () => {
      const t = checkpointRig();
      const saves = (): { replayed: number; full: boolean }[] =>
        t.logger.records
          .filter((l) => l.msg === 'recovery checkpoint saved')
          .map((l) => ({ replayed: l.fields['replayed'] as number, full: l.fields['full'] as boolean }));
      const first = await t.open(1n, { ...config, recoveryCheckpointIntervalMs: 30 });
      await first.append(createCollection(V1, 1n));
      const burst = async (v: string, n: number): Promise<void> => {
        await Promise.all(Array.from({ length: n }, (_, i) => first.append(data(v, `${v}-${i}`))));
      };
      await burst(V1, 300);
      await waitFor('a first checkpoint', () => saves().length >= 1);
      await first.append(createCollection(V2, 2n));
      await burst(V2, 300);
      await burst(V1, 300);
      const written = BigInt(t.store.log(PCHANNEL).records.length);
      await waitFor('a checkpoint past the data', () => (t.savedPosition() ?? 0n) >= written - 3n);
      // Each DDL is read with whatever was written while it was in flight; data alone is never read.
      for (const save of saves()) expect(save).toEqual({ replayed: expect.any(Number), full: false });
      expect(saves().reduce((n, x) => n + x.replayed, 0)).toBeLessThan(20);
      await using second = await t.open(2n);
      expect(t.replayed(2n).replayed).toBeLessThan(10);
      await second.append(data(V2, 'V2 is live'));
      await rejectsWith(second.append(createCollection(V2, 2n)), 'INVALID_ARGUMENT');
      await first.close();
    });

    it('takes DDL and open txns into the checkpoint by replaying the log, ambiguous appends included', async () => {
      const t = checkpointRig();
      const first = await t.open(1n, { ...config, recoveryCheckpointIntervalMs: 30 });
      await first.append(createCollection(V1, 1n));
      await first.append(createCollection(V2, 2n));
      const txnId = (await first.append(beginTxn(V1, 60_000))).txnContext!.txnId;
      await first.append(data(V1, 'in txn').withTxnContext({ txnId }));
      // Written, but the caller is told the outcome is unknown: the live WAL still thinks V2 is live.
      t.store.loseAck = (m) => m.type === MessageType.DropCollection;
      await expect(first.append(dropCollection(V2, 2n))).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' });
      t.store.loseAck = () => false;
      for (let i = 0; i < 5; i++) await first.append(data(V1, `d${i}`));
      const written = BigInt(t.store.log(PCHANNEL).records.length);
      // The open txn pins the last-confirmed id at its BeginTxn: the checkpoint cannot pass it.
      await new Promise((r) => setTimeout(r, 150));
      const pinned = t.savedPosition()!;
      expect(pinned).toBeLessThan(written - 5n);
      const commit = await first.append(commitTxn(V1, txnId));
      // A checkpoint at the commit itself still holds the txn open (replay resumes at the commit): the
      // last-confirmed id moves past it with the next append.
      await first.append(data(V1, 'after the txn'));
      const commitOffset = fakeIds.parse(commit.id.toString()).offset;
      await waitFor('a checkpoint past the commit', () => (t.savedPosition() ?? 0n) > commitOffset);
      const stored = decodeCheckpoint(t.saved.get(`cp/${PCHANNEL}`)!, fakeIds);
      expect(stored.vchannels.map((v) => [v.vchannel, v.state])).toEqual([
        [V1, 'live'],
        [V2, 'dropped'],
      ]);
      expect(stored.openTxns).toEqual([]);
      await using second = await t.open(2n);
      expect(t.replayed(2n).fromCheckpoint).toBe(true);
      await rejectsWith(second.append(data(V2, 'x')), 'VCHANNEL_DROPPED');
      await first.close();
    });

    it('saves a last checkpoint at a graceful close, at the end of the term', async () => {
      const t = checkpointRig();
      const first = await t.open(1n, { ...config, recoveryCheckpointIntervalMs: 0 });
      await first.append(createCollection(V1, 1n));
      for (let i = 0; i < 30; i++) await first.append(data(V1, `d${i}`));
      await first.close();
      await using second = await t.open(2n);
      expect(t.replayed(2n)).toEqual({ replayed: expect.any(Number), fromCheckpoint: true });
      expect(t.replayed(2n).replayed).toBeLessThanOrEqual(2); // at most the closing tick
      await second.append(data(V1, 'still live'));
    });
  });

  it('ignores a checkpoint it cannot use and replays the whole log', async () => {
    const store = new FakeLogStore();
    const first = await openWal(store, 1n);
    await first.append(createCollection(V1, 1n));
    await first.close();
    const kv: CheckpointKv = {
      get: async () => ({ value: new TextEncoder().encode('{"not":"a checkpoint"}') }),
      put: async () => undefined,
    };
    const logger = new MemoryLogger();
    await using second = await openWal(store, 2n, {
      checkpoints: new MetaKvCheckpointStore({ kv, prefix: 'cp/', ids: fakeIds }),
      logger,
    });
    await second.append(data(V1, 'still known'));
    const r = logger.records.find((l) => l.msg === 'wal recovered')!;
    expect(r.fields['fromCheckpoint']).toBe(false);
  });

  it('resumes from any message m at (m.lastConfirmed, tt > m.tt) with exactly the remaining suffix', async () => {
    const store = new FakeLogStore();
    store.delay = () => Math.floor(Math.random() * 4);
    await using wal = await openWal(store);
    await wal.append(createCollection(V1, 1n));
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => wal.append(data(V1, `r${i}`))));
    const last = results.reduce((a, b) => (a.timeTick > b.timeTick ? a : b));
    const all = dataOnly(
      await readUntil(wal, { policy: { kind: 'all' }, vchannel: V1 }, (m) => m.timeTick >= last.timeTick),
    );
    for (const pick of [1, 10, 30, 59]) {
      const m = all[pick]!;
      const rest = dataOnly(
        await readUntil(
          wal,
          {
            policy: { kind: 'startFrom', id: m.lastConfirmed },
            vchannel: V1,
            filters: [{ kind: 'timeTickGt', tt: m.timeTick }],
          },
          (x) => x.timeTick >= last.timeTick,
        ),
      );
      expect(rest.map((x) => x.timeTick)).toEqual(all.slice(pick + 1).map((x) => x.timeTick));
    }
  });

  it('answers ON_SHUTDOWN after close, and close is idempotent', async () => {
    const store = new FakeLogStore();
    const wal = await openWal(store);
    await wal.append(createCollection(V1, 1n));
    const p1 = wal.close();
    expect(wal.close()).toBe(p1);
    await p1;
    await rejectsWith(wal.append(data(V1, 'late')), 'ON_SHUTDOWN');
  });

  it('refuses messages only the WAL may write', async () => {
    const store = new FakeLogStore();
    await using wal = await openWal(store);
    const { MessageBuilder } = await import('@streamsvc/message');
    await rejectsWith(
      wal.append(MessageBuilder.flush().header({ collectionId: 1n }).vchannel(V1).build()),
      'INVALID_ARGUMENT',
    );
  });
});
