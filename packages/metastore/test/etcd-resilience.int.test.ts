/**
 * The etcd adapter against a real etcd that restarts, freezes and compacts: what the conformance suite
 * cannot do to an embedded store.
 */
import { MemoryLogger } from '@streamsvc/common';
import { freePort, startEtcd } from '@streamsvc/testkit';
import type { EtcdService } from '@streamsvc/testkit';

import { eventually, iterate, sleep, within } from '../src/conformance-helpers.js';
import { Election, EtcdMetaKv, MetaKvError, Session } from '../src/index.js';
import type { MetaKv, WatchEvent } from '../src/index.js';

let etcd: EtcdService;
const clients: MetaKv[] = [];
let namespaces = 0;

async function client(namespace = `resilience-${++namespaces}/`, logger?: MemoryLogger): Promise<EtcdMetaKv> {
  const kv = await EtcdMetaKv.connect({ endpoints: etcd.endpoints, namespace, requestTimeoutMs: 3000, logger });
  clients.push(kv);
  return kv;
}

/** Retries `fn` while etcd is unavailable (bounded: 100 tries, 100 ms apart). */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!MetaKvError.is(e, 'UNAVAILABLE') || attempt >= 100) throw e;
      await sleep(100);
    }
  }
}

beforeAll(async () => {
  etcd = await startEtcd();
});

afterEach(async () => {
  etcd.signal('SIGCONT');
  await Promise.allSettled(clients.splice(0).map((kv) => kv.close()));
});

afterAll(async () => {
  await etcd.stop();
});

describe('EtcdMetaKv with a real etcd', () => {
  it('fails to connect with UNAVAILABLE within the dial timeout when no etcd listens', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await EtcdMetaKv.connect({ endpoints: [`http://127.0.0.1:${port}`], dialTimeoutMs: 500 }).catch(
      (e: unknown) => e,
    );
    expect(MetaKvError.is(error, 'UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/cannot reach etcd at http:\/\/127\.0\.0\.1:\d+ within 500 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('keeps a pending watch going across an etcd restart, without losing or repeating an event', async () => {
    const log = new MemoryLogger();
    const watcher = await client('restart/', log);
    const writer = await client('restart/');
    const start = await writer.revision();
    const events: WatchEvent[] = [];
    const ac = new AbortController();
    const consuming = (async () => {
      for await (const event of watcher.watch('seq/', { prefix: true, fromRevision: start + 1n, signal: ac.signal }))
        events.push(event);
    })();
    // Each write is create-if-absent, so retrying one whose answer was lost cannot write it twice.
    const write = (i: number): Promise<unknown> => {
      const key = `seq/${String(i).padStart(3, '0')}`;
      return retrying(() =>
        writer.txn({
          compare: [{ key, target: 'version', op: '==', value: 0n }],
          success: [{ type: 'put', key, value: `${i}` }],
        }),
      );
    };
    for (let i = 0; i < 20; i++) await write(i);
    const restarting = etcd.restart({ downMs: 300 });
    for (let i = 20; i < 40; i++) await write(i); // these mostly wait for etcd to come back
    await restarting;
    for (let i = 40; i < 60; i++) await write(i);
    await eventually(15_000, 'all 60 events to arrive', async () => events.length >= 60);
    await sleep(300); // anything repeated would arrive now
    ac.abort();
    await within(3000, 'the watch to end', consuming);
    expect(events.map((e) => e.kv.key)).toEqual(
      Array.from({ length: 60 }, (_, i) => `seq/${String(i).padStart(3, '0')}`),
    );
    expect(events.every((e) => e.type === 'put')).toBe(true);
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.kv.modRevision).toBeGreaterThan(events[i - 1]!.kv.modRevision);
    // The restart really broke the watch stream, and etcd3 re-created it.
    expect(log.records.some((r) => r.msg?.startsWith('watch disconnected'))).toBe(true);
    // The watcher's own client serves requests again too.
    expect(await retrying(() => watcher.get('seq/059'))).toBeDefined();
  });

  it('ends a session and tells its owner within the TTL when etcd is frozen for longer than the TTL', async () => {
    const owner = await client('frozen/');
    const observer = await client('frozen/');
    const session = await Session.register(owner, { key: 'nodes/1', value: 'n1', ttlMs: 1000 });
    await sleep(500); // a few keepalives answered
    etcd.signal('SIGSTOP');
    const frozenAt = Date.now();
    const lost = await within(session.lease.ttlMs + 3000, 'the owner to learn', session.lost);
    const learnedAfterMs = Date.now() - frozenAt;
    expect(lost.reason).toBe('expired');
    // No later than the TTL after the freeze: by then etcd may have expired it and someone else acted.
    expect(learnedAfterMs).toBeLessThanOrEqual(session.lease.ttlMs + 500);
    await expect(session.update('x')).rejects.toMatchObject({ code: 'SESSION_LOST' });
    await sleep(500);
    etcd.signal('SIGCONT');
    await eventually(
      8000,
      'the session key to vanish',
      async () => (await retrying(() => observer.get('nodes/1'))) === undefined,
    );
    // The owner's client recovered: it can register again.
    const again = await retrying(() => Session.register(owner, { key: 'nodes/1', value: 'n1-again', ttlMs: 1000 }));
    expect(again.isLost).toBe(false);
    await again.close();
  });

  it('lets a leader frozen out past its TTL learn it lost before another candidate is elected', async () => {
    const a = await client('leader/');
    const b = await client('leader/');
    const sa = await Session.register(a, { key: 's/a', value: 'a', ttlMs: 1000 });
    const sb = await Session.register(b, { key: 's/b', value: 'b', ttlMs: 15_000 }); // survives the freeze
    const la = await new Election(a, { prefix: 'leader', lease: sa.lease }).campaign('a');
    let aLostAt = 0;
    void la.lost.then(() => (aLostAt = Date.now()));
    const lb = new Election(b, { prefix: 'leader', lease: sb.lease }).campaign('b');
    await sleep(300);
    etcd.signal('SIGSTOP');
    await sleep(sa.lease.ttlMs + 1000);
    etcd.signal('SIGCONT');
    const leadership = await within(10_000, 'b to be elected', lb);
    const bElectedAt = Date.now();
    expect(aLostAt).toBeGreaterThan(0);
    expect(aLostAt).toBeLessThan(bElectedAt);
    expect((await la.lost).reason).toBe('lease-lost');
    await leadership.resign();
    await sb.close();
  });

  it("ends a session and tells its owner when a second client revokes the session's lease", async () => {
    const owner = await client('revoke/');
    const operator = await client('revoke/');
    const session = await Session.register(owner, { key: 'nodes/7', value: 'n7', ttlMs: 2000 });
    expect(await operator.revokeLease(session.leaseId)).toBe(true);
    // The owner hears it from its next keepalive (every TTL/3).
    expect((await within(session.lease.ttlMs, 'the owner to learn', session.lost)).reason).toBe('expired');
    expect(await operator.get('nodes/7')).toBeUndefined();
    await expect(session.update('x')).rejects.toMatchObject({ code: 'SESSION_LOST' });
  });

  it('answers COMPACTED for a list or watch at a revision etcd has compacted', async () => {
    const kv = await client('compact/');
    const first = (await kv.put('k', '1')).revision;
    await kv.put('k', '2');
    const last = (await kv.put('k', '3')).revision;
    const res = await fetch(`${etcd.endpoints[0]}/v3/kv/compaction`, {
      method: 'POST',
      body: JSON.stringify({ revision: String(last), physical: true }),
    });
    expect(res.ok).toBe(true);
    await expect(kv.list('', { atRevision: first })).rejects.toMatchObject({ code: 'COMPACTED' });
    const it = iterate(kv.watch('k', { fromRevision: first }));
    await expect(within(5000, 'the watch to fail', it.next())).rejects.toMatchObject({
      code: 'COMPACTED',
      message: expect.stringContaining(`revision ${first} is compacted`),
    });
    expect((await kv.list('', { atRevision: last })).kvs).toHaveLength(1);
  });
});
