import path from 'node:path';

import { ManualClock } from '@streamsvc/common';
import { tempDir } from '@streamsvc/testkit';
import type { TempDir } from '@streamsvc/testkit';
import { open as openLmdb } from 'lmdb';

import { EmbeddedMetaKv } from './embedded-meta-kv.js';
import { MetaKvError } from './errors.js';
import type { WatchEvent } from './meta-kv.js';

let dir: TempDir;
let n = 0;
const fresh = (): string => path.join(dir.path, `db-${++n}`);

beforeAll(async () => {
  dir = await tempDir('metastore-embedded-unit-');
});
afterAll(() => dir.remove());

/**
 * Waits for `promise` without timers: LMDB commits (and fsyncs) on its own thread, so yield to the event
 * loop until it settles — bounded in rounds and, as a safety net only, in wall time.
 */
async function settle<T>(promise: Promise<T>, what: string): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  promise.then(
    (v) => ((done = true), (value = v)),
    (e: unknown) => ((done = true), (error = e)),
  );
  const giveUpAt = Date.now() + 5000;
  for (let i = 0; i < 1_000_000 && !done && Date.now() < giveUpAt; i++) await new Promise((r) => setImmediate(r));
  if (!done) throw new Error(`${what} did not settle`);
  if (error) throw error;
  return value as T;
}

async function nextEvent(it: AsyncIterator<WatchEvent>): Promise<WatchEvent> {
  const r = await settle(it.next(), 'the next watch event');
  if (r.done) throw new Error('watch ended');
  return r.value;
}

describe('EmbeddedMetaKv leases (ManualClock)', () => {
  it('expires a lease that is not kept alive exactly when the clock passes its TTL, deleting its keys', async () => {
    const clock = new ManualClock();
    await using kv = await EmbeddedMetaKv.open({ path: fresh(), clock });
    const lease = await kv.grantLease(1500, { keepAlive: false });
    expect(lease.ttlMs).toBe(2000);
    await kv.put('a', '1', { lease: lease.id });
    await kv.put('b', '2', { lease: lease.id });
    const it = kv.watch('', { prefix: true, fromRevision: (await kv.revision()) + 1n })[Symbol.asyncIterator]();

    clock.advance(1999);
    await new Promise((r) => setImmediate(r));
    expect(lease.isLost).toBe(false);
    expect(await kv.get('a')).toBeDefined();

    clock.advance(1);
    expect(await settle(lease.lost, 'lease.lost')).toEqual({ reason: 'expired' });
    expect(await kv.get('a')).toBeUndefined();
    const [d1, d2] = [await nextEvent(it), await nextEvent(it)];
    expect([d1.type, d1.kv.key, d2.type, d2.kv.key]).toEqual(['delete', 'a', 'delete', 'b']);
    expect(d1.kv.modRevision).toBe(d2.kv.modRevision);
  });

  it('never expires a kept-alive lease while the store is open', async () => {
    const clock = new ManualClock();
    await using kv = await EmbeddedMetaKv.open({ path: fresh(), clock });
    const lease = await kv.grantLease(1000);
    await kv.put('a', '1', { lease: lease.id });
    for (let i = 0; i < 10; i++) clock.advance(60_000);
    await new Promise((r) => setImmediate(r));
    expect(lease.isLost).toBe(false);
    expect(await kv.get('a')).toBeDefined();
    expect(clock.pendingSleeps).toBe(0);
  });

  it('expires leases in deadline order when several are due, each at its own revision', async () => {
    const clock = new ManualClock();
    await using kv = await EmbeddedMetaKv.open({ path: fresh(), clock });
    const long = await kv.grantLease(3000, { keepAlive: false });
    const short = await kv.grantLease(1000, { keepAlive: false });
    await kv.put('long', 'x', { lease: long.id });
    await kv.put('short', 'x', { lease: short.id });
    clock.advance(1000);
    await settle(short.lost, 'short lease lost');
    expect(long.isLost).toBe(false);
    const afterShort = await kv.revision();
    clock.advance(2000);
    await settle(long.lost, 'long lease lost');
    expect(await kv.revision()).toBe(afterShort + 1n);
  });

  it('gives stored leases a full TTL after a reopen, then deletes their keys unless revoked first', async () => {
    const where = fresh();
    const first = await EmbeddedMetaKv.open({ path: where, clock: new ManualClock() });
    const kept = await first.grantLease(2000);
    const revoked = await first.grantLease(2000);
    await first.put('kept', '1', { lease: kept.id });
    await first.put('revoked', '1', { lease: revoked.id });
    await first.close();
    expect(await settle(kept.lost, 'closed lease')).toEqual({ reason: 'closed' });

    const clock = new ManualClock();
    await using kv = await EmbeddedMetaKv.open({ path: where, clock });
    expect(await kv.revokeLease(revoked.id)).toBe(true);
    const it = kv.watch('kept', { fromRevision: (await kv.revision()) + 1n })[Symbol.asyncIterator]();
    clock.advance(1999);
    await new Promise((r) => setImmediate(r));
    expect(await kv.get('kept')).toBeDefined();
    clock.advance(1);
    const gone = await nextEvent(it);
    expect([gone.type, gone.kv.key]).toEqual(['delete', 'kept']);
    expect(await kv.revokeLease(kept.id)).toBe(false);
  });

  it('settles every lease handle with closed when the store closes, and keeps lease ids unique across reopens', async () => {
    const where = fresh();
    const kv = await EmbeddedMetaKv.open({ path: where, clock: new ManualClock() });
    const a = await kv.grantLease(1000);
    await kv.close();
    expect(await settle(a.lost, 'lost')).toEqual({ reason: 'closed' });
    await a.revoke(); // a no-op on a closed store
    await using again = await EmbeddedMetaKv.open({ path: where, clock: new ManualClock() });
    const b = await again.grantLease(1000);
    expect(BigInt(b.id)).toBeGreaterThan(BigInt(a.id));
  });
});

describe('EmbeddedMetaKv history', () => {
  it('answers COMPACTED for revisions older than the retained history and replays the oldest retained one', async () => {
    await using kv = await EmbeddedMetaKv.open({ path: fresh(), historyRetention: 5 });
    const revisions: bigint[] = [];
    for (let i = 0; i < 10; i++) revisions.push((await kv.put('k', `v${i}`)).revision);
    const oldestKept = revisions[revisions.length - 5]!;
    const compacted = await kv.list('', { atRevision: oldestKept - 1n }).catch((e: unknown) => e);
    expect(MetaKvError.is(compacted, 'COMPACTED')).toBe(true);
    expect((compacted as Error).message).toMatch(/compacted; the oldest readable revision is/);
    const watchOld = kv.watch('k', { fromRevision: oldestKept - 1n })[Symbol.asyncIterator]();
    await expect(watchOld.next()).rejects.toMatchObject({ code: 'COMPACTED' });

    const page = await kv.list('', { atRevision: oldestKept });
    expect(new TextDecoder().decode(page.kvs[0]!.value)).toBe('v5');
    const it = kv.watch('k', { fromRevision: oldestKept })[Symbol.asyncIterator]();
    const replayed: string[] = [];
    for (let i = 0; i < 5; i++) replayed.push(new TextDecoder().decode((await nextEvent(it)).kv.value));
    expect(replayed).toEqual(['v5', 'v6', 'v7', 'v8', 'v9']);
    await it.return?.();
  });

  it('reconstructs the key space at every retained revision exactly (random operations against a model)', async () => {
    await using kv = await EmbeddedMetaKv.open({ path: fresh() });
    let seed = 42;
    const random = (k: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    const keys = ['a', 'a/1', 'a/2', 'b', 'b/x', 'c', 'é', 'z'];
    const model = new Map<string, string>();
    const snapshots = new Map<bigint, string>();
    const show = (m: Iterable<[string, string]>): string =>
      JSON.stringify([...m].sort(([x], [y]) => (Buffer.from(x) < Buffer.from(y) ? -1 : 1)));
    snapshots.set(await kv.revision(), show(model));
    for (let step = 0; step < 150; step++) {
      const key = keys[random(keys.length)]!;
      const op = random(10);
      let revision: bigint;
      if (op < 6) {
        revision = (await kv.put(key, `s${step}`)).revision;
        model.set(key, `s${step}`);
      } else if (op < 8) {
        revision = (await kv.delete(key)).revision;
        model.delete(key);
      } else if (op < 9) {
        const prefix = key.slice(0, 1);
        revision = (await kv.deletePrefix(prefix)).revision;
        for (const k of [...model.keys()]) if (k.startsWith(prefix)) model.delete(k);
      } else {
        const other = keys[random(keys.length)]!;
        const ops =
          other === key
            ? [{ type: 'put' as const, key, value: `t${step}` }]
            : [
                { type: 'put' as const, key, value: `t${step}` },
                { type: 'delete' as const, key: other },
              ];
        revision = (await kv.txn({ compare: [], success: ops })).revision;
        model.set(key, `t${step}`);
        if (other !== key) model.delete(other);
      }
      snapshots.set(revision, show(model));
    }
    for (const [revision, expected] of snapshots) {
      for (const limit of [1, 3, 1000]) {
        const seen: [string, string][] = [];
        let page = await kv.list('', { atRevision: revision, limit });
        seen.push(...page.kvs.map((x) => [x.key, new TextDecoder().decode(x.value)] as [string, string]));
        for (let i = 0; page.more && i < 20; i++) {
          page = await kv.list('', { atRevision: revision, limit, startAfter: seen[seen.length - 1]![0] });
          seen.push(...page.kvs.map((x) => [x.key, new TextDecoder().decode(x.value)] as [string, string]));
        }
        expect(show(seen)).toBe(expected);
      }
    }
  });
});

describe('EmbeddedMetaKv opening', () => {
  it('refuses a second store on the same directory with LOCKED, and allows it after the first closes', async () => {
    const where = fresh();
    const first = await EmbeddedMetaKv.open({ path: where });
    const second = await EmbeddedMetaKv.open({ path: where }).catch((e: unknown) => e);
    expect(MetaKvError.is(second, 'LOCKED')).toBe(true);
    expect((second as Error).message).toContain('already open for writing');
    await first.put('still', 'works');
    await first.close();
    await using third = await EmbeddedMetaKv.open({ path: where });
    expect(await third.get('still')).toBeDefined();
  });

  it('refuses a database of an unknown format with CORRUPT', async () => {
    const where = fresh();
    await (await EmbeddedMetaKv.open({ path: where })).close();
    const raw = openLmdb({ path: path.join(where, 'meta.mdb'), maxDbs: 8 });
    const meta = raw.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(99n);
    await meta.put('format', b);
    await raw.close();
    const e = await EmbeddedMetaKv.open({ path: where }).catch((err: unknown) => err);
    expect(MetaKvError.is(e, 'CORRUPT')).toBe(true);
    expect((e as Error).message).toContain('unknown format 99');
    // The failed open released the lock.
    await expect(EmbeddedMetaKv.open({ path: where })).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('rejects bad options with INVALID_ARGUMENT', async () => {
    await expect(EmbeddedMetaKv.open({ path: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(EmbeddedMetaKv.open({ path: fresh(), historyRetention: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('historyRetention'),
    });
  });
});
