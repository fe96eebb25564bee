import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import type { BackendWal } from '@streamsvc/wal-core';

import { woodpeckerWal } from '../../src/index.js';
import type { Storage } from './fixtures.js';
import { keyed, keyOf, readLog } from './log-helpers.js';

const LOOPS = 4;

/**
 * Registers the fencing test on `storage`: writer A (term 1) keeps appending from several loops while
 * writer B (term 2, another opener: another node) opens and writes. A must end with FENCED on every
 * loop; every append A had acknowledged must be in the log, before B's first entry; nothing A was
 * refused may be in the log; nothing of A's may follow B's first entry.
 */
export function describeFencing(label: string, storage: () => Storage): void {
  it(`${label}: writer A (term 1) keeps appending, writer B (term 2) opens: A gets FENCED and no entry of A follows B's first`, async () => {
    const s = storage();
    const pchannel = `fence${Math.random().toString(36).slice(2, 8)}-dml_0`;
    const openerA = await woodpeckerWal.createOpener(s.config(), s.deps());
    const openerB = await woodpeckerWal.createOpener(s.config(), s.deps());
    try {
      const a: BackendWal = await openerA.open({ pchannel, term: 1n, mode: 'rw' });
      const acked = new Set<string>();
      const refused = new Set<string>();
      const endings: unknown[] = [];
      const deadline = Date.now() + 15_000;
      const loops = Array.from({ length: LOOPS }, async (_, loop) => {
        // Until refused (bounded by the deadline): A never learns of B except through the storage.
        for (let i = 0; Date.now() < deadline; i++) {
          const key = `A/${loop}/${i}`;
          try {
            await a.append(keyed(pchannel, key));
            acked.add(key);
          } catch (e) {
            refused.add(key);
            endings.push(e);
            return;
          }
        }
        endings.push(new Error('A was never fenced'));
      });
      await new Promise((r) => setTimeout(r, 150));
      const b = await openerB.open({ pchannel, term: 2n, mode: 'rw' });
      const bFirst = await b.append(keyed(pchannel, 'B/0'));
      for (let i = 1; i < 10; i++) await b.append(keyed(pchannel, `B/${i}`));
      await Promise.all(loops);
      for (const e of endings) expect(WalError.is(e, WalErrorCode.FENCED)).toBe(true);
      await expect(a.append(keyed(pchannel, 'A/late'))).rejects.toMatchObject({ code: WalErrorCode.FENCED });
      expect(acked.size).toBeGreaterThan(0);

      const { messages, error } = await readLog(b, { kind: 'all' }, (m) => keyOf(m) === 'B/9');
      expect(error).toBeUndefined();
      const keys = messages.map(keyOf);
      const firstB = messages.findIndex((m) => m.id.equals(bFirst));
      expect(firstB).toBeGreaterThanOrEqual(0);
      expect(keys.slice(firstB).every((k) => k.startsWith('B/'))).toBe(true);
      for (const key of acked) expect(keys.slice(0, firstB)).toContain(key);
      for (const key of refused) expect(keys).not.toContain(key);
      for (let i = 1; i < messages.length; i++) expect(messages[i - 1]!.id.compare(messages[i]!.id)).toBe(-1);
    } finally {
      await openerA.close();
      await openerB.close();
    }
  }, 30_000);
}
