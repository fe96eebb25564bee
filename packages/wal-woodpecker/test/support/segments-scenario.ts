import { existsSync } from 'node:fs';

import type { MessageId } from '@streamsvc/message';

import { woodpeckerWal } from '../../src/index.js';
import type { Medium, Storage } from './fixtures.js';
import { keyed, keyOf, readLog } from './log-helpers.js';
import { asAnotherProcess } from './other-process.js';

const SMALL_SEGMENTS = { segmentMaxBytes: 64 * 1024 };

function channel(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 8)}-dml_0`;
}

async function segmentHasData(s: Storage, medium: Medium, pchannel: string, segmentId: number): Promise<boolean> {
  if (medium === 'local') return existsSync(`${s.dir}/wal/${pchannel}/${segmentId}.log`);
  return (await s.objectStore!.list(`wp/${pchannel}/${segmentId}/`)).objects.length > 0;
}

/** Segment rolling, truncation and reading a log written "elsewhere" (no in-process notifications). */
export function describeSegments(medium: Medium, storage: () => Storage): void {
  it(`${medium}: rolls segments by size, reads across them, and truncate deletes whole earlier segments`, async () => {
    const s = storage();
    const pchannel = channel('roll');
    const opener = await woodpeckerWal.createOpener(s.config(SMALL_SEGMENTS), s.deps());
    try {
      const wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
      const ids: MessageId[] = [];
      for (let i = 0; i < 300; i += 10) {
        ids.push(
          ...(await Promise.all(Array.from({ length: 10 }, (_, j) => wal.append(keyed(pchannel, `k/${i + j}`, 1024))))),
        );
      }
      const segmentsUsed = new Set(ids.map((id) => id.toString().split(':')[1]));
      expect(segmentsUsed.size).toBeGreaterThanOrEqual(3);
      const all = await readLog(wal, { kind: 'all' }, (_, n) => n === 300);
      expect(all.error).toBeUndefined();
      expect(all.messages.map((m) => m.id.toString())).toEqual(ids.map((id) => id.toString()));

      const cut = ids[200]!;
      const cutSegment = Number(cut.toString().split(':')[1]);
      await wal.truncate(cut);
      for (let seg = 0; seg < cutSegment; seg++) expect(await segmentHasData(s, medium, pchannel, seg)).toBe(false);
      expect(await segmentHasData(s, medium, pchannel, cutSegment)).toBe(true);
      const fromCut = await readLog(wal, { kind: 'startFrom', id: cut }, (_, n) => n === 100);
      expect(fromCut.messages.map(keyOf)).toEqual(Array.from({ length: 100 }, (_, i) => `k/${200 + i}`));
      // A read from before the retained data, or from a deleted id, starts at the first retained segment.
      for (const policy of [{ kind: 'all' as const }, { kind: 'startFrom' as const, id: ids[0]! }]) {
        const rest = await readLog(wal, policy, (m) => keyOf(m) === 'k/299');
        const first = Number(keyOf(rest.messages[0]!).split('/')[1]);
        expect(first).toBeLessThanOrEqual(200);
        expect(rest.messages[0]!.id.toString()).toBe(`v1:${cutSegment}:0`);
        expect(rest.messages.map(keyOf)).toEqual(Array.from({ length: 300 - first }, (_, i) => `k/${first + i}`));
      }
    } finally {
      await opener.close();
    }
  });

  it(`${medium}: a reader in another process follows the tail by polling, across rolls and a takeover`, async () => {
    const s = storage();
    const pchannel = channel('poll');
    const writerOpener = await woodpeckerWal.createOpener(s.config(SMALL_SEGMENTS), s.deps());
    const readerOpener = await woodpeckerWal.createOpener(s.config(SMALL_SEGMENTS), {
      ...s.deps(),
      metaKv: asAnotherProcess(s.metaKv),
    });
    const takeoverOpener = await woodpeckerWal.createOpener(s.config(SMALL_SEGMENTS), s.deps());
    try {
      const a = await writerOpener.open({ pchannel, term: 1n, mode: 'rw' });
      for (let i = 0; i < 5; i++) await a.append(keyed(pchannel, `early/${i}`));
      const ro = await readerOpener.open({ pchannel, term: 1n, mode: 'ro' });
      const latest = readLog(ro, { kind: 'latest' }, (m) => keyOf(m) === 'B/9', 15_000);
      const all = readLog(ro, { kind: 'all' }, (m) => keyOf(m) === 'B/9', 15_000);
      await new Promise((r) => setTimeout(r, 100));
      const acked: string[] = [];
      for (let i = 0; i < 80; i++) {
        await a.append(keyed(pchannel, `A/${i}`, 1024));
        acked.push(`A/${i}`);
      }
      const b = await takeoverOpener.open({ pchannel, term: 2n, mode: 'rw' });
      for (let i = 0; i < 10; i++) await b.append(keyed(pchannel, `B/${i}`));
      const expected = [...acked, ...Array.from({ length: 10 }, (_, i) => `B/${i}`)];
      const fromLatest = await latest;
      expect(fromLatest.error).toBeUndefined();
      expect(fromLatest.messages.map(keyOf)).toEqual(expected);
      const fromAll = await all;
      expect(fromAll.messages.map(keyOf)).toEqual([...Array.from({ length: 5 }, (_, i) => `early/${i}`), ...expected]);
    } finally {
      await readerOpener.close();
      await writerOpener.close();
      await takeoverOpener.close();
    }
  }, 30_000);
}
