/** The listing scenarios of the conformance suite (see `conformance.ts`). */
import { compareKeys } from '../src/index.js';
import type { ObjectStore } from '../src/index.js';
import { codeOf, enc, inParallel, listAll, storeScenario } from './conformance-support.js';
import type { ConformanceTarget } from './conformance-support.js';

/** Defines the listing scenarios for `target`. */
export function listConformance(target: ConformanceTarget): void {
  const withStore = (fn: (store: ObjectStore) => Promise<void>) => storeScenario(target, fn);

  it(
    'lists exactly the keys starting with a prefix that ends inside a segment, with sizes',
    withStore(async (store) => {
      const inside = [
        'logs/seg-1',
        'logs/seg-1-x',
        'logs/seg-1.y',
        'logs/seg-1/a',
        'logs/seg-1/b/c',
        'logs/seg-10',
        'logs/seg-10/z',
        'logs/seg-1é',
      ];
      const outside = ['logs/seg-2', 'logs/seg-', 'logs/seg', 'logz/seg-1', 'log'];
      const usable =
        target.nestedKeys === 'coexist' ? inside : inside.filter((k) => k !== 'logs/seg-1' && k !== 'logs/seg-10');
      await inParallel([...usable, ...outside], 8, (k) => store.put(k, enc(k)));
      const page = await store.list('logs/seg-1');
      expect(page.more).toBe(false);
      expect(page.objects.map((o) => o.key).sort(compareKeys)).toEqual([...usable].sort(compareKeys));
      for (const o of page.objects) expect(o.size).toBe(enc(o.key).length);
      expect((await listAll(store, 'logs/seg-1/')).sort(compareKeys)).toEqual(['logs/seg-1/a', 'logs/seg-1/b/c']);
      expect(await listAll(store, 'logs/seg-3')).toEqual([]);
      expect((await listAll(store, '')).sort(compareKeys)).toEqual([...usable, ...outside].sort(compareKeys));
    }),
    60_000,
  );

  const orderTitle = "lists in UTF-8 byte order across '-', '.', '/' and characters beyond U+FFFF, on every page";
  if (target.skip?.byteOrderListing) {
    const reason = target.skip.byteOrderListing;
    console.warn(`[conformance] ${target.name}: skipping "${orderTitle}": ${reason}`);
    it.skip(`${orderTitle} — skipped: ${reason}`, () => {});
  } else {
    it(
      orderTitle,
      withStore(async (store) => {
        const keys = [
          'o/a',
          'o/a-x',
          'o/a.x',
          'o/a/b',
          'o/a/b-c',
          'o/a/b/c',
          'o/a0',
          'o/b',
          'o/é',
          'o/\uE000',
          'o/😀',
          'o/😀/x',
        ];
        const usable =
          target.nestedKeys === 'coexist' ? keys : keys.filter((k) => k !== 'o/a' && k !== 'o/a/b' && k !== 'o/😀');
        await inParallel([...usable].reverse(), 4, (k) => store.put(k, enc(k)));
        const expected = [...usable].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        expect((await store.list('o/')).objects.map((o) => o.key)).toEqual(expected);
        for (const limit of [1, 2, 5]) expect(await listAll(store, 'o/', limit)).toEqual(expected);
        expect(await listAll(store, 'o/a', 1)).toEqual(expected.filter((k) => k.startsWith('o/a')));
      }),
    );
  }

  it(
    'pages through more than 1000 keys with startAfter, by default pages of 1000 and by any limit in 1..1000',
    withStore(async (store) => {
      const keys = Array.from({ length: 1010 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      await inParallel([...keys, 'man', 'manz/0', 'many-not/0'], 24, (k) => store.put(k, enc('v')));
      const first = await store.list('many/');
      expect(first.objects).toHaveLength(1000);
      expect(first.more).toBe(true);
      const second = await store.list('many/', { startAfter: first.objects.at(-1)!.key });
      expect(second.objects.map((o) => o.key)).toEqual(keys.slice(1000));
      expect(second.more).toBe(false);
      expect(await listAll(store, 'many/', 333)).toEqual(keys);
      const one = await store.list('many/', { limit: 1, startAfter: 'many/00500x' });
      expect(one.objects.map((o) => o.key)).toEqual(['many/00501']);
      expect(await store.list('many/', { startAfter: 'many/99999' })).toEqual({ objects: [], more: false });
      expect((await store.list('many/', { startAfter: 'a', limit: 2 })).objects.map((o) => o.key)).toEqual(
        keys.slice(0, 2),
      );
      for (const limit of [0, 1001, 2.5, -1])
        expect(await codeOf(store.list('many/', { limit }))).toBe('INVALID_ARGUMENT');
    }),
    90_000,
  );
}
