/**
 * The ObjectStore conformance suite: one set of scenarios every adapter runs (local, S3 on moto,
 * S3 on s3rver). A target may skip a scenario only with a written reason, which is printed.
 */
import { randomBytes } from 'node:crypto';

import { ObjectStoreError, compareKeys } from '../src/index.js';
import type { ObjectStore } from '../src/index.js';
import { listConformance } from './conformance-list.js';
import { codeOf, dec, enc, inParallel, listAll, storeScenario } from './conformance-support.js';
import type { ConformanceTarget } from './conformance-support.js';

export type { ConformanceTarget } from './conformance-support.js';

/** Defines the conformance scenarios for `target` (call inside a `describe`). */
export function objectStoreConformance(target: ConformanceTarget): void {
  const withStore = (fn: (store: ObjectStore) => Promise<void>, options?: { maxObjectBytes?: number }) =>
    storeScenario(target, fn, options);

  it(
    'round-trips an empty, a small and a 3 MiB object, and head agrees with put',
    withStore(async (store) => {
      const big = randomBytes(3 * 1024 * 1024);
      for (const [key, data] of [
        ['rt/empty', new Uint8Array(0)],
        ['rt/small', enc('hello')],
        ['rt/big', big],
      ] as const) {
        const info = await store.put(key, data, { contentType: 'application/octet-stream' });
        expect(info).toMatchObject({ key, size: data.length });
        expect(Buffer.from(await store.get(key)).equals(Buffer.from(data))).toBe(true);
        const head = await store.head(key);
        expect(head).toMatchObject({ key, size: data.length, etag: info.etag });
        expect(head!.lastModifiedMs).toBeGreaterThan(Date.parse('2020-01-01'));
      }
    }),
    60_000,
  );

  it(
    'replaces an object on put, with a new etag',
    withStore(async (store) => {
      const first = await store.put('ow/k', enc('first version'));
      const second = await store.put('ow/k', enc('second'));
      expect(dec(await store.get('ow/k'))).toBe('second');
      expect(second.etag).not.toBe(first.etag);
      expect((await store.head('ow/k'))?.size).toBe(6);
    }),
  );

  it(
    'writes a new key with putIfAbsent and refuses an existing one with ALREADY_EXISTS, leaving it unchanged',
    withStore(async (store) => {
      const info = await store.putIfAbsent('pia/k', enc('winner'));
      expect(info).toMatchObject({ key: 'pia/k', size: 6 });
      const error = await store.putIfAbsent('pia/k', enc('loser')).catch((e: unknown) => e);
      expect(ObjectStoreError.is(error, 'ALREADY_EXISTS')).toBe(true);
      expect((error as Error).message).toContain('"pia/k"');
      expect(dec(await store.get('pia/k'))).toBe('winner');
      await store.put('pia/p', enc('plain'));
      expect(await codeOf(store.putIfAbsent('pia/p', enc('x')))).toBe('ALREADY_EXISTS');
      expect(dec(await store.get('pia/p'))).toBe('plain');
    }),
  );

  const atomicTitle = 'lets exactly one of 12 concurrent putIfAbsent callers win, and stores the winner’s bytes';
  if (target.skip?.atomicPutIfAbsent) {
    const reason = target.skip.atomicPutIfAbsent;
    console.warn(`[conformance] ${target.name}: skipping "${atomicTitle}": ${reason}`);
    it.skip(`${atomicTitle} — skipped: ${reason}`, () => {});
    it(
      'declares capabilities.atomicPutIfAbsent false, since it cannot fence writers',
      withStore(async (store) => {
        expect(store.capabilities.atomicPutIfAbsent).toBe(false);
      }),
    );
  } else {
    it(
      atomicTitle,
      withStore(async (store) => {
        expect(store.capabilities.atomicPutIfAbsent).toBe(true);
        for (let round = 0; round < 3; round++) {
          const key = `race/${round}`;
          const outcomes = await Promise.allSettled(
            Array.from({ length: 12 }, (_, i) => store.putIfAbsent(key, enc(`writer-${i}-${'x'.repeat(i * 1000)}`))),
          );
          const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
          expect(winners).toHaveLength(1);
          for (const o of outcomes)
            if (o.status === 'rejected') expect(ObjectStoreError.is(o.reason, 'ALREADY_EXISTS')).toBe(true);
          const stored = dec(await store.get(key));
          expect(stored).toBe(`writer-${winners[0]}-${'x'.repeat(winners[0]! * 1000)}`);
        }
      }),
      60_000,
    );
  }

  it(
    'reads byte ranges: middle, open-ended, cut at the end, past the end and empty',
    withStore(async (store) => {
      await store.put('range/k', enc('0123456789'));
      const read = async (offset: number, length?: number) => dec(await store.getRange('range/k', { offset, length }));
      expect(await read(2, 3)).toBe('234');
      expect(await read(0)).toBe('0123456789');
      expect(await read(7)).toBe('789');
      expect(await read(8, 100)).toBe('89');
      expect(await read(10)).toBe('');
      expect(await read(25, 5)).toBe('');
      expect(await read(4, 0)).toBe('');
      await store.put('range/empty', new Uint8Array(0));
      expect(await store.getRange('range/empty', { offset: 0 })).toHaveLength(0);
      expect(await store.getRange('range/empty', { offset: 3, length: 2 })).toHaveLength(0);
    }),
  );

  it(
    'rejects negative or fractional ranges with INVALID_ARGUMENT and ranges of a missing key with NOT_FOUND',
    withStore(async (store) => {
      await store.put('range/k', enc('0123456789'));
      expect(await codeOf(store.getRange('range/k', { offset: -1 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(store.getRange('range/k', { offset: 0, length: -1 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(store.getRange('range/k', { offset: 1.5 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(store.getRange('range/k', { offset: Number.NaN }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(store.getRange('range/missing', { offset: 0, length: 4 }))).toBe('NOT_FOUND');
      expect(await codeOf(store.getRange('range/missing', { offset: 0, length: 0 }))).toBe('NOT_FOUND');
    }),
  );

  it(
    'answers head of a missing key with undefined and get with NOT_FOUND naming the key',
    withStore(async (store) => {
      expect(await store.head('missing/k')).toBeUndefined();
      const error = await store.get('missing/k').catch((e: unknown) => e);
      expect(ObjectStoreError.is(error, 'NOT_FOUND')).toBe(true);
      expect((error as Error).message).toContain('"missing/k"');
      expect((error as ObjectStoreError).retriable).toBe(false);
    }),
  );

  it(
    'deletes idempotently',
    withStore(async (store) => {
      await store.put('del/k', enc('x'));
      await store.delete('del/k');
      expect(await store.head('del/k')).toBeUndefined();
      expect(await codeOf(store.get('del/k'))).toBe('NOT_FOUND');
      await store.delete('del/k');
      await store.delete('del/never/existed');
      expect(await listAll(store, 'del/')).toEqual([]);
    }),
  );

  it(
    'rejects invalid keys with INVALID_KEY naming the key, on every method',
    withStore(async (store) => {
      const invalid = [
        '',
        '/lead',
        'a/../b',
        '..',
        'a//b',
        'trail/',
        './x',
        'a/.tmp~x',
        'ctl\u0001',
        Array.from({ length: 5 }, () => 'k'.repeat(210)).join('/'),
      ];
      for (const key of invalid) {
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['put', () => store.put(key, enc('x'))],
          ['putIfAbsent', () => store.putIfAbsent(key, enc('x'))],
          ['get', () => store.get(key)],
          ['getRange', () => store.getRange(key, { offset: 0 })],
          ['head', () => store.head(key)],
          ['delete', () => store.delete(key)],
        ];
        for (const [op, call] of calls) {
          const error = await call().catch((e: unknown) => e);
          expect({ op, key, code: ObjectStoreError.is(error) ? error.code : error }).toEqual({
            op,
            key,
            code: 'INVALID_KEY',
          });
          expect((error as Error).message).toContain(JSON.stringify(key.length > 120 ? `${key.slice(0, 120)}…` : key));
        }
      }
      for (const prefix of ['/x', 'a//', 'a/../']) expect(await codeOf(store.list(prefix))).toBe('INVALID_KEY');
      expect(await listAll(store, '')).toEqual([]);
    }),
  );

  it(
    'round-trips and lists keys with spaces, plus, percent, markup, digits and non-ASCII characters',
    withStore(async (store) => {
      const keys = [
        'odd/a+b',
        'odd/sp ace',
        'odd/100%',
        'odd/x&y<z>"q\'',
        'odd/ünï',
        'odd/😀',
        'odd/\uE000',
        'odd/0001',
        'odd/12.50',
        'odd/a?b#c',
        'odd/~tilde',
        '0002',
      ];
      await inParallel(keys, 6, (k) => store.put(k, enc(k)));
      for (const k of keys) expect(dec(await store.get(k))).toBe(k);
      expect((await listAll(store, '')).sort(compareKeys)).toEqual([...keys].sort(compareKeys));
      expect((await listAll(store, 'odd/a')).sort(compareKeys)).toEqual(['odd/a+b', 'odd/a?b#c']);
    }),
  );

  it(
    `${target.nestedKeys === 'coexist' ? 'stores' : 'refuses with INVALID_KEY'} a key that is also a directory of other keys`,
    withStore(async (store) => {
      await store.put('nest/a/b', enc('child'));
      await store.put('nest/c', enc('leaf'));
      if (target.nestedKeys === 'coexist') {
        await store.put('nest/a', enc('parent'));
        await store.put('nest/c/d', enc('grandchild'));
        expect((await listAll(store, 'nest/')).sort(compareKeys)).toEqual(['nest/a', 'nest/a/b', 'nest/c', 'nest/c/d']);
      } else {
        expect(await codeOf(store.put('nest/a', enc('parent')))).toBe('INVALID_KEY');
        expect(await codeOf(store.putIfAbsent('nest/a', enc('parent')))).toBe('INVALID_KEY');
        expect(await codeOf(store.put('nest/c/d', enc('grandchild')))).toBe('INVALID_KEY');
        expect(await store.head('nest/a')).toBeUndefined();
        expect(await codeOf(store.get('nest/a'))).toBe('NOT_FOUND');
        expect(await codeOf(store.getRange('nest/a', { offset: 0, length: 0 }))).toBe('NOT_FOUND');
        expect(await codeOf(store.get('nest/c/d'))).toBe('NOT_FOUND');
        await store.delete('nest/a');
        expect(await listAll(store, 'nest/')).toEqual(['nest/a/b', 'nest/c']);
      }
      expect(dec(await store.get('nest/a/b'))).toBe('child');
      expect(dec(await store.get('nest/c'))).toBe('leaf');
    }),
  );

  it(
    'rejects objects larger than maxObjectBytes with INVALID_ARGUMENT and accepts one of exactly that size',
    withStore(
      async (store) => {
        expect(store.maxObjectBytes).toBe(1024);
        expect(await codeOf(store.put('big/k', new Uint8Array(1025)))).toBe('INVALID_ARGUMENT');
        expect(await codeOf(store.putIfAbsent('big/k', new Uint8Array(1025)))).toBe('INVALID_ARGUMENT');
        expect(await store.head('big/k')).toBeUndefined();
        await store.put('big/k', new Uint8Array(1024));
        expect((await store.head('big/k'))?.size).toBe(1024);
      },
      { maxObjectBytes: 1024 },
    ),
  );

  it('rejects every call after close with CLOSED, and close returns the same promise twice', async () => {
    const store = await target.open();
    await store.put('c/k', enc('x'));
    const closing = store.close();
    expect(store.close()).toBe(closing);
    await closing;
    await store[Symbol.asyncDispose]();
    const calls = [
      store.put('c/k', enc('x')),
      store.putIfAbsent('c/k2', enc('x')),
      store.get('c/k'),
      store.getRange('c/k', { offset: 0 }),
      store.head('c/k'),
      store.list(''),
      store.delete('c/k'),
    ];
    for (const call of calls) expect(await codeOf(call)).toBe('CLOSED');
  });

  it(
    'rejects a call whose signal is already aborted with the abort reason, and does nothing',
    withStore(async (store) => {
      await store.put('ab/k', enc('kept'));
      const reason = new Error('caller aborted');
      const signal = AbortSignal.abort(reason);
      const calls = [
        store.put('ab/k', enc('changed'), { signal }),
        store.putIfAbsent('ab/new', enc('x'), { signal }),
        store.get('ab/k', { signal }),
        store.getRange('ab/k', { offset: 0 }, { signal }),
        store.head('ab/k', { signal }),
        store.list('', { signal }),
        store.delete('ab/k', { signal }),
      ];
      for (const call of calls) await expect(call).rejects.toBe(reason);
      expect(dec(await store.get('ab/k'))).toBe('kept');
      expect(await store.head('ab/new')).toBeUndefined();
    }),
  );

  listConformance(target);
}
