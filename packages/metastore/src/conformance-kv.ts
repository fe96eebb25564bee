/**
 * Conformance scenarios for keys, revisions, listing and transactions.
 */
import assert from 'node:assert/strict';

import type { Scenario } from './conformance-helpers.js';
import { rejectsWith, text } from './conformance-helpers.js';
import { MetaKvErrorCode } from './errors.js';
import type { MetaKv, TxnOp } from './meta-kv.js';

/** Writes `count` keys `<prefix><i padded>` = `v<i>` in transactions of up to 128 puts. */
async function fill(kv: MetaKv, prefix: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 128) {
    const ops: TxnOp[] = [];
    for (let i = start; i < Math.min(count, start + 128); i++) {
      ops.push({ type: 'put', key: `${prefix}${String(i).padStart(5, '0')}`, value: `v${i}` });
    }
    await kv.txn({ compare: [], success: ops });
  }
}

export const kvScenarios: readonly Scenario[] = [
  {
    name: 'get returns undefined for a missing key and the stored entry after a put',
    async run({ kv }) {
      assert.equal(await kv.get('missing'), undefined);
      const { revision } = await kv.put('k', 'v1');
      const got = await kv.get('k');
      assert.ok(got);
      assert.equal(got.key, 'k');
      assert.equal(text(got.value), 'v1');
      assert.equal(got.createRevision, revision);
      assert.equal(got.modRevision, revision);
      assert.equal(got.version, 1n);
      assert.equal(got.lease, undefined);
    },
  },
  {
    name: 'every put advances the revision; version counts writes while createRevision stays',
    async run({ kv }) {
      const before = await kv.revision();
      const r1 = (await kv.put('k', 'a')).revision;
      const r2 = (await kv.put('k', 'b')).revision;
      const r3 = (await kv.put('k', 'c')).revision;
      assert.ok(before < r1 && r1 < r2 && r2 < r3, `revisions ${before} ${r1} ${r2} ${r3} must increase`);
      const got = await kv.get('k');
      assert.deepEqual([got?.createRevision, got?.modRevision, got?.version], [r1, r3, 3n]);
      assert.equal(await kv.revision(), r3);
    },
  },
  {
    name: 'delete removes a key at a new revision; deleting a missing key deletes nothing and keeps the revision',
    async run({ kv }) {
      const { revision: put } = await kv.put('k', 'v');
      const del = await kv.delete('k');
      assert.equal(del.deleted, 1);
      assert.ok(del.revision > put);
      assert.equal(await kv.get('k'), undefined);
      const again = await kv.delete('k');
      assert.deepEqual(again, { deleted: 0, revision: del.revision });
    },
  },
  {
    name: 'a key created again after a delete starts over at version 1 with a new createRevision',
    async run({ kv }) {
      await kv.put('k', 'a');
      await kv.put('k', 'b');
      await kv.delete('k');
      const { revision } = await kv.put('k', 'c');
      const got = await kv.get('k');
      assert.deepEqual([got?.version, got?.createRevision], [1n, revision]);
    },
  },
  {
    name: 'deletePrefix deletes exactly the keys under the prefix, all at one revision',
    async run({ kv }) {
      for (const k of ['a/1', 'a/2', 'a/3', 'a', 'ab', 'b/1']) await kv.put(k, k);
      const res = await kv.deletePrefix('a/');
      assert.equal(res.deleted, 3);
      assert.deepEqual(
        (await kv.list('')).kvs.map((x) => x.key),
        ['a', 'ab', 'b/1'],
      );
      assert.equal(await kv.revision(), res.revision);
      assert.deepEqual(await kv.deletePrefix('zzz/'), { deleted: 0, revision: res.revision });
    },
  },
  {
    name: 'values round-trip as exact bytes, and strings as UTF-8',
    async run({ kv }) {
      const bytes = Uint8Array.from([0, 1, 2, 0xfe, 0xff, 0, 10]);
      await kv.put('bin', bytes);
      await kv.put('text', 'grüße ✓');
      await kv.put('empty', '');
      assert.deepEqual([...(await kv.get('bin'))!.value], [...bytes]);
      assert.equal(text((await kv.get('text'))!.value), 'grüße ✓');
      assert.equal((await kv.get('empty'))!.value.length, 0);
    },
  },
  {
    name: 'list returns the keys under a prefix in byte order, one page at a time',
    async run({ kv }) {
      for (const k of ['p/b', 'p/a', 'p/c', 'p/é', 'p/Z', 'q/a', 'p']) await kv.put(k, k);
      const all = await kv.list('p/');
      assert.deepEqual(
        all.kvs.map((x) => x.key),
        ['p/Z', 'p/a', 'p/b', 'p/c', 'p/é'],
      );
      assert.equal(all.more, false);
      const page1 = await kv.list('p/', { limit: 2 });
      assert.deepEqual({ keys: page1.kvs.map((x) => x.key), more: page1.more }, { keys: ['p/Z', 'p/a'], more: true });
      const page2 = await kv.list('p/', { limit: 2, startAfter: 'p/a', atRevision: page1.revision });
      assert.deepEqual({ keys: page2.kvs.map((x) => x.key), more: page2.more }, { keys: ['p/b', 'p/c'], more: true });
      const page3 = await kv.list('p/', { limit: 2, startAfter: 'p/c', atRevision: page1.revision });
      assert.deepEqual({ keys: page3.kvs.map((x) => x.key), more: page3.more }, { keys: ['p/é'], more: false });
      assert.deepEqual((await kv.list('p/', { startAfter: 'p/é' })).kvs, []);
      assert.deepEqual((await kv.list('p/', { startAfter: 'q' })).kvs, []);
      assert.equal((await kv.list('p/', { startAfter: 'a' })).kvs.length, 5);
      assert.equal(all.revision, await kv.revision());
    },
  },
  {
    name: 'list pages through more than 1000 keys, and atRevision keeps every page on one snapshot while writes go on',
    async run({ kv }) {
      await fill(kv, 'big/', 1100);
      const first = await kv.list('big/');
      assert.equal(first.kvs.length, 1000, 'default page size is 1000');
      assert.equal(first.more, true);
      // Change the key space under the listing: delete, update and add keys.
      await kv.delete('big/00000');
      await kv.delete('big/01050');
      await kv.put('big/01099', 'changed');
      await kv.put('big/01200', 'new');
      await kv.put('big/00500x', 'new');
      const seen = [...first.kvs];
      let more: boolean = first.more;
      for (let pages = 0; more && pages < 20; pages++) {
        const page = await kv.list('big/', {
          limit: 30,
          startAfter: seen[seen.length - 1]!.key,
          atRevision: first.revision,
        });
        assert.equal(page.revision, first.revision);
        seen.push(...page.kvs);
        more = page.more;
      }
      assert.equal(more, false);
      assert.equal(seen.length, 1100);
      seen.forEach((x, i) => {
        assert.equal(x.key, `big/${String(i).padStart(5, '0')}`);
        assert.equal(text(x.value), `v${i}`);
      });
      const now = await kv.list('big/', { limit: 10_000 });
      assert.equal(now.kvs.length, 1100 - 2 + 2);
      assert.equal(text(now.kvs.find((x) => x.key === 'big/01099')!.value), 'changed');
    },
  },
  {
    name: 'list at a revision not yet written is rejected with INVALID_ARGUMENT',
    async run({ kv }) {
      const revision = await kv.revision();
      await rejectsWith(
        kv.list('', { atRevision: revision + 1000n }),
        MetaKvErrorCode.INVALID_ARGUMENT,
        /future revision/,
      );
    },
  },
  {
    name: 'create-if-absent (version == 0) succeeds for exactly one of several writers',
    async run({ kv }) {
      const tries = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          kv.txn({
            compare: [{ key: 'owner', target: 'version', op: '==', value: 0n }],
            success: [{ type: 'put', key: 'owner', value: `w${n}` }],
            failure: [{ type: 'get', key: 'owner' }],
          }),
        ),
      );
      assert.equal(tries.filter((t) => t.succeeded).length, 1);
      const winner = text((await kv.get('owner'))!.value);
      for (const t of tries.filter((x) => !x.succeeded)) assert.equal(text(t.results[0]!.value), winner);
    },
  },
  {
    name: 'compares on value, version, createRevision and modRevision hold or fail exactly as etcd decides',
    async run({ kv }) {
      const { revision: created } = await kv.put('k', 'm');
      const { revision: modified } = await kv.put('k', 'm2');
      const holds = async (c: Parameters<MetaKv['txn']>[0]['compare'][number]): Promise<boolean> =>
        (await kv.txn({ compare: [c], success: [] })).succeeded;
      assert.equal(await holds({ key: 'k', target: 'value', op: '==', value: 'm2' }), true);
      assert.equal(await holds({ key: 'k', target: 'value', op: '!=', value: 'm2' }), false);
      assert.equal(await holds({ key: 'k', target: 'value', op: '>', value: 'm1' }), true);
      assert.equal(await holds({ key: 'k', target: 'value', op: '<', value: 'm1' }), false);
      assert.equal(await holds({ key: 'k', target: 'value', op: '==', value: new TextEncoder().encode('m2') }), true);
      assert.equal(await holds({ key: 'k', target: 'version', op: '==', value: 2n }), true);
      assert.equal(await holds({ key: 'k', target: 'version', op: '>', value: 1n }), true);
      assert.equal(await holds({ key: 'k', target: 'createRevision', op: '==', value: created }), true);
      assert.equal(await holds({ key: 'k', target: 'createRevision', op: '<', value: modified }), true);
      assert.equal(await holds({ key: 'k', target: 'modRevision', op: '==', value: modified }), true);
      assert.equal(await holds({ key: 'k', target: 'modRevision', op: '!=', value: created }), true);
      assert.equal(await holds({ key: 'none', target: 'version', op: '==', value: 0n }), true);
      assert.equal(await holds({ key: 'none', target: 'createRevision', op: '==', value: 0n }), true);
      assert.equal(await holds({ key: 'none', target: 'modRevision', op: '<', value: 1n }), true);
      // A value compare on a missing key is false whatever the op.
      assert.equal(await holds({ key: 'none', target: 'value', op: '==', value: '' }), false);
      assert.equal(await holds({ key: 'none', target: 'value', op: '!=', value: 'x' }), false);
    },
  },
  {
    name: "a transaction's writes all land at one revision and its gets see the branch's earlier writes",
    async run({ kv }) {
      await kv.put('gone', 'x');
      await kv.put('p/1', 'x');
      const res = await kv.txn({
        compare: [{ key: 'gone', target: 'version', op: '>', value: 0n }],
        success: [
          { type: 'put', key: 'a', value: '1' },
          { type: 'get', key: 'a' },
          { type: 'delete', key: 'gone' },
          { type: 'deletePrefix', prefix: 'p/' },
          { type: 'put', key: 'b', value: '2' },
          { type: 'get', key: 'gone' },
        ],
      });
      assert.equal(res.succeeded, true);
      assert.equal(res.results.length, 6);
      assert.equal(text(res.results[1]!.value), '1');
      assert.equal(res.results[5], undefined);
      const [a, b] = [await kv.get('a'), await kv.get('b')];
      assert.equal(a?.modRevision, res.revision);
      assert.equal(b?.modRevision, res.revision);
      assert.equal(await kv.revision(), res.revision);
      assert.equal(await kv.get('p/1'), undefined);
    },
  },
  {
    name: 'a failed compare runs the failure branch and is not an error',
    async run({ kv }) {
      const res = await kv.txn({
        compare: [{ key: 'k', target: 'value', op: '==', value: 'x' }],
        success: [{ type: 'put', key: 'ok', value: '1' }],
        failure: [
          { type: 'put', key: 'k', value: 'init' },
          { type: 'get', key: 'k' },
        ],
      });
      assert.equal(res.succeeded, false);
      assert.equal(text(res.results[1]!.value), 'init');
      assert.equal(await kv.get('ok'), undefined);
      const read = await kv.txn({ compare: [{ key: 'k', target: 'value', op: '==', value: 'nope' }], success: [] });
      assert.deepEqual([read.succeeded, read.results, read.revision], [false, [], res.revision]);
    },
  },
  {
    name: 'a transaction that writes one key twice is refused with INVALID_ARGUMENT and writes nothing',
    async run({ kv }) {
      const before = await kv.revision();
      await rejectsWith(
        kv.txn({
          compare: [],
          success: [
            { type: 'put', key: 'k', value: '1' },
            { type: 'put', key: 'k', value: '2' },
          ],
        }),
        MetaKvErrorCode.INVALID_ARGUMENT,
        /duplicate key/,
      );
      await rejectsWith(
        kv.txn({
          compare: [],
          success: [
            { type: 'deletePrefix', prefix: 'k' },
            { type: 'put', key: 'k/1', value: '2' },
          ],
        }),
        MetaKvErrorCode.INVALID_ARGUMENT,
        /duplicate key/,
      );
      assert.equal(await kv.revision(), before);
    },
  },
  {
    name: 'a transaction putting with a dead lease fails with LEASE_NOT_FOUND and applies none of its ops',
    async run({ kv }) {
      const before = await kv.revision();
      await rejectsWith(
        kv.txn({
          compare: [],
          success: [
            { type: 'put', key: 'a', value: '1' },
            { type: 'put', key: 'b', value: '2', lease: '987654321' },
          ],
        }),
        MetaKvErrorCode.LEASE_NOT_FOUND,
      );
      assert.equal(await kv.get('a'), undefined);
      assert.equal(await kv.revision(), before);
    },
  },
];
