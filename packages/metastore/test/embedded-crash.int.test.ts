/**
 * Durability of the embedded store under `kill -9`: a child writes and prints every acknowledged
 * write; it is killed at a random moment; the store reopened must hold every acknowledged write, with
 * transactions whole and revisions consistent.
 */
import path from 'node:path';

import { spawnTsChild, tempDir } from '@streamsvc/testkit';

import { iterate, sleep, take } from '../src/conformance-helpers.js';
import { EmbeddedMetaKv, MetaKvError } from '../src/index.js';

const WRITER = path.join(__dirname, 'fixtures', 'crash-writer.ts');
const LOOPS = 4;
const TRIALS = 10;

interface Ack {
  readonly loop: number;
  readonly seq: number;
  readonly revision: bigint;
}

const decode = (v: Uint8Array): string => new TextDecoder().decode(v);

/** Checks the reopened store against every write acknowledged so far; returns writes committed but never acknowledged. */
async function verify(kv: EmbeddedMetaKv, acks: readonly Ack[]): Promise<number> {
  const revision = await kv.revision();
  const dataRevisions = new Set<bigint>();
  let unacknowledged = 0;
  for (let j = 0; j < LOOPS; j++) {
    const mine = acks.filter((a) => a.loop === j);
    const nextKv = await kv.get(`c/${j}/next`);
    const next = nextKv ? Number(decode(nextKv.value)) : 0;
    // No acknowledged write is lost.
    for (const ack of mine) {
      expect(ack.seq).toBeLessThan(next);
      const got = await kv.get(`c/${j}/${String(ack.seq).padStart(6, '0')}`);
      expect(got?.modRevision).toBe(ack.revision);
      expect(decode(got!.value)).toBe(String(ack.seq));
    }
    // Transactions are whole: exactly seq 0..next-1 exist, and `next` was written with the last one.
    const page = await kv.list(`c/${j}/`, { limit: 10_000 });
    const seqKeys = page.kvs.filter((x) => !x.key.endsWith('/next'));
    expect(seqKeys.map((x) => x.key)).toEqual(
      Array.from({ length: next }, (_, i) => `c/${j}/${String(i).padStart(6, '0')}`),
    );
    if (next > 0) expect(nextKv!.modRevision).toBe(seqKeys[next - 1]!.modRevision);
    for (const x of seqKeys) dataRevisions.add(x.modRevision);
    unacknowledged += next - (mine.length === 0 ? 0 : Math.max(...mine.map((a) => a.seq)) + 1);
  }
  // Revisions are consistent: every transaction took exactly one revision, with no gap and no repeat
  // (a fresh store is at revision 1, so the writes are 2..revision).
  expect(dataRevisions.size).toBe(Number(revision) - 1);
  for (let r = 2n; r <= revision; r++) expect(dataRevisions.has(r)).toBe(true);
  // History survived as well: a watch from the first revision replays every change in order.
  const ac = new AbortController();
  const events = await take(
    iterate(kv.watch('c/', { prefix: true, fromRevision: 2n, signal: ac.signal })),
    dataRevisions.size * 2,
  );
  ac.abort();
  for (let i = 0; i < events.length; i += 2) expect(events[i]!.kv.modRevision).toBe(BigInt(i / 2) + 2n);
  return unacknowledged;
}

describe('EmbeddedMetaKv under kill -9', () => {
  it(`keeps every acknowledged write through ${TRIALS} kills at random moments, with whole transactions and consistent revisions`, async () => {
    await using dir = await tempDir('metastore-crash-');
    const db = path.join(dir.path, 'db');
    const acks: Ack[] = [];
    const report: string[] = [];
    for (let trial = 1; trial <= TRIALS; trial++) {
      const child = await spawnTsChild(WRITER, {
        args: [db, String(LOOPS)],
        logFile: path.join(dir.path, `writer-${trial}.log`),
      });
      const before = acks.length;
      child.onLine((line) => {
        const m = /^ACK (\d+) (\d+) (\d+)$/.exec(line);
        if (m) acks.push({ loop: Number(m[1]), seq: Number(m[2]), revision: BigInt(m[3]!) });
      });
      await child.nextLine((l) => l === 'READY', 20_000);
      if (trial === 1) {
        // While the child holds the database, nobody else may open it.
        const locked = await EmbeddedMetaKv.open({ path: db }).catch((e: unknown) => e);
        expect(MetaKvError.is(locked, 'LOCKED')).toBe(true);
      }
      const delayMs = Math.floor(Math.random() * 300);
      await sleep(delayMs);
      child.signal('SIGKILL');
      const exit = await child.exited;
      expect(exit.signal).toBe('SIGKILL');
      await sleep(20); // the last lines the child wrote before dying
      await using kv = await EmbeddedMetaKv.open({ path: db });
      const unacknowledged = await verify(kv, acks);
      report.push(
        `trial ${trial}: killed after ${delayMs} ms, ${acks.length - before} acks, ${unacknowledged} committed-unacked, revision ${await kv.revision()}`,
      );
    }
    console.log(`kill -9 trials (${TRIALS}):\n${report.join('\n')}`);
    expect(acks.length).toBeGreaterThan(0);
  }, 120_000);

  it('keeps a killed writer’s leases and expires them one TTL after the reopen', async () => {
    await using dir = await tempDir('metastore-crash-lease-');
    const db = path.join(dir.path, 'db');
    const child = await spawnTsChild(WRITER, { args: [db, '1', 'lease'], logFile: path.join(dir.path, 'writer.log') });
    await child.nextLine((l) => l.startsWith('ACK'), 20_000);
    child.signal('SIGKILL');
    await child.exited;
    await using kv = await EmbeddedMetaKv.open({ path: db });
    const opened = Date.now();
    expect(await kv.get('lease/held')).toBeDefined();
    const it = iterate(kv.watch('lease/held', { fromRevision: (await kv.revision()) + 1n }));
    const [gone] = await take(it, 1, 5000);
    expect(gone!.type).toBe('delete');
    expect(Date.now() - opened).toBeGreaterThanOrEqual(900);
    expect(await kv.get('lease/held')).toBeUndefined();
  });
});
