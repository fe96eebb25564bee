/**
 * Conformance scenarios for watches.
 */
import assert from 'node:assert/strict';

import type { Scenario } from './conformance-helpers.js';
import { assertQuiet, iterate, sleep, take, text, within } from './conformance-helpers.js';
import type { WatchEvent } from './meta-kv.js';

const brief = (e: WatchEvent): string => `${e.type} ${e.kv.key}=${text(e.kv.value)}@${e.kv.modRevision}`;

export const watchScenarios: readonly Scenario[] = [
  {
    name: 'a key watch yields the puts and deletes of that key in order, with their revisions',
    async run({ kv }) {
      const start = await kv.revision();
      const ac = new AbortController();
      const it = iterate(kv.watch('k', { fromRevision: start + 1n, signal: ac.signal }));
      const r1 = (await kv.put('k', 'a')).revision;
      await kv.put('other', 'x');
      const r2 = (await kv.put('k', 'b')).revision;
      const r3 = (await kv.delete('k')).revision;
      const events = await take(it, 3);
      assert.deepEqual(events.map(brief), [`put k=a@${r1}`, `put k=b@${r2}`, `delete k=@${r3}`]);
      assert.equal(events[1]!.kv.version, 2n);
      assert.equal(events[1]!.kv.createRevision, r1);
      assert.deepEqual([events[2]!.kv.version, events[2]!.kv.createRevision], [0n, 0n]);
      ac.abort();
    },
  },
  {
    name: 'a prefix watch sees every key under the prefix and nothing else',
    async run({ kv }) {
      const start = await kv.revision();
      const ac = new AbortController();
      const it = iterate(kv.watch('dir/', { prefix: true, fromRevision: start + 1n, signal: ac.signal }));
      await kv.put('dir', 'no');
      await kv.put('dir/a', '1');
      await kv.put('dirx', 'no');
      await kv.put('dir/b/c', '2');
      await kv.deletePrefix('dir/');
      const events = await take(it, 4);
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.kv.key}`),
        ['put dir/a', 'put dir/b/c', 'delete dir/a', 'delete dir/b/c'],
      );
      assert.equal(events[2]!.kv.modRevision, events[3]!.kv.modRevision, 'one deletePrefix, one revision');
      await assertQuiet(it, 200);
      ac.abort();
    },
  },
  {
    name: 'a watch from an old revision replays history, then continues with live changes',
    async run({ kv }) {
      const r1 = (await kv.put('h', '1')).revision;
      await kv.put('h', '2');
      await kv.delete('h');
      const ac = new AbortController();
      const it = iterate(kv.watch('h', { fromRevision: r1, signal: ac.signal }));
      const replay = await take(it, 3);
      assert.deepEqual(
        replay.map((e) => `${e.type}:${text(e.kv.value)}`),
        ['put:1', 'put:2', 'delete:'],
      );
      const r4 = (await kv.put('h', '3')).revision;
      const [live] = await take(it, 1);
      assert.equal(brief(live!), `put h=3@${r4}`);
      ac.abort();
    },
  },
  {
    name: 'a watch from the revision after a list misses nothing written in between, and repeats nothing',
    async run({ kv }) {
      await kv.put('s/0', 'before');
      const snapshot = await kv.list('s/');
      // Writes racing with the start of the watch.
      const writes = (async () => {
        for (let i = 1; i <= 20; i++) await kv.put(`s/${i}`, `w${i}`);
      })();
      await sleep(5);
      const ac = new AbortController();
      const it = iterate(kv.watch('s/', { prefix: true, fromRevision: snapshot.revision + 1n, signal: ac.signal }));
      await writes;
      const events = await take(it, 20);
      assert.deepEqual(
        events.map((e) => e.kv.key),
        Array.from({ length: 20 }, (_, i) => `s/${i + 1}`),
      );
      await assertQuiet(it, 200);
      ac.abort();
    },
  },
  {
    name: 'the events of one transaction arrive together, in op order, at one revision',
    async run({ kv }) {
      await kv.put('t/x', 'old');
      const start = await kv.revision();
      const ac = new AbortController();
      const it = iterate(kv.watch('t/', { prefix: true, fromRevision: start + 1n, signal: ac.signal }));
      const res = await kv.txn({
        compare: [],
        success: [
          { type: 'put', key: 't/b', value: '1' },
          { type: 'delete', key: 't/x' },
          { type: 'put', key: 't/a', value: '2' },
        ],
      });
      const events = await take(it, 3);
      assert.deepEqual(events.map(brief), [
        `put t/b=1@${res.revision}`,
        `delete t/x=@${res.revision}`,
        `put t/a=2@${res.revision}`,
      ]);
      ac.abort();
    },
  },
  {
    name: 'a watch ends when its signal aborts',
    async run({ kv }) {
      const ac = new AbortController();
      const it = iterate(kv.watch('k', { fromRevision: (await kv.revision()) + 1n, signal: ac.signal }));
      const pending = it.next();
      await sleep(50);
      ac.abort();
      assert.deepEqual(await within(2000, 'the watch to end', pending), { value: undefined, done: true });
      const aborted = iterate(kv.watch('k', { signal: AbortSignal.abort() }));
      assert.equal((await within(2000, 'an aborted watch to end', aborted.next())).done, true);
    },
  },
  {
    name: 'a watch whose consumer breaks out of the loop stops cleanly',
    async run({ kv }) {
      const start = await kv.revision();
      await kv.put('b', '1');
      await kv.put('b', '2');
      let seen = 0;
      for await (const _ of kv.watch('b', { fromRevision: start + 1n })) {
        seen++;
        break;
      }
      assert.equal(seen, 1);
      await kv.put('b', '3'); // nobody listens; must not fail
    },
  },
  {
    name: 'closing the store ends its watches',
    async run({ kv }) {
      const it = iterate(kv.watch('k', { fromRevision: (await kv.revision()) + 1n }));
      const pending = it.next();
      await sleep(50);
      await kv.close();
      assert.equal((await within(3000, 'the watch to end on close', pending)).done, true);
    },
  },
];
