import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { ManualClock, MemoryLogger } from '@streamsvc/common';
import { tempDir } from '@streamsvc/testkit';
import type { TempDir } from '@streamsvc/testkit';
import fc from 'fast-check';

import {
  LocalObjectStore,
  ObjectStoreError,
  compareKeys,
  openObjectStore,
  objectStoreConfigSchema,
} from '../src/index.js';
import { objectStoreConformance } from './conformance.js';

let dir: TempDir;
let stores = 0;
beforeAll(async () => {
  dir = await tempDir('objectstore-local-');
});
afterAll(async () => {
  await dir.remove();
});
const freshRoot = (): string => path.join(dir.path, `store-${++stores}`);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Every file name under `root`, relative, for checks on what is on disk. */
async function filesOnDisk(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(path.relative(root, path.join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

describe('LocalObjectStore conformance', () => {
  objectStoreConformance({
    name: 'local',
    nestedKeys: 'reject',
    open: (options) => LocalObjectStore.open({ root: freshRoot(), ...options }),
  });
});

describe('LocalObjectStore', () => {
  it('keeps each object as a file at its key path and leaves no temp files behind', async () => {
    const root = freshRoot();
    await using store = await LocalObjectStore.open({ root });
    await store.put('a/b/c', enc('1'));
    await store.put('a/b/c', enc('2'));
    await store.putIfAbsent('a/d', enc('3'));
    await store.putIfAbsent('a/d', enc('4')).catch(() => {});
    expect(await filesOnDisk(root)).toEqual(['a/b/c', 'a/d']);
  });

  it('hides temp files from list and refuses their names as keys', async () => {
    const root = freshRoot();
    await using store = await LocalObjectStore.open({ root });
    await store.put('t/k', enc('x'));
    await writeFile(path.join(root, 't', '.tmp~deadbeef'), 'half a write');
    await mkdir(path.join(root, 't', '.tmp~dir'), { recursive: true });
    await writeFile(path.join(root, 't', '.tmp~dir', 'x'), 'inside a reserved dir');
    expect((await store.list('t/')).objects.map((o) => o.key)).toEqual(['t/k']);
    expect((await store.list('t/.tmp')).objects).toEqual([]);
    await expect(store.get('t/.tmp~deadbeef')).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });

  it('sweeps temp files older than staleTempMs on open and keeps younger ones', async () => {
    const root = freshRoot();
    await mkdir(path.join(root, 'x', 'y'), { recursive: true });
    await writeFile(path.join(root, 'x', 'y', '.tmp~old'), 'left by a killed writer');
    await writeFile(path.join(root, 'x', '.tmp~young'), 'maybe a live writer elsewhere');
    await writeFile(path.join(root, 'x', 'y', 'kept'), 'an object');
    const now = Date.now();
    await utimes(path.join(root, 'x', 'y', '.tmp~old'), new Date(now - 3_600_000), new Date(now - 3_600_000));
    const logger = new MemoryLogger();
    await using store = await LocalObjectStore.open({ root, staleTempMs: 60_000, clock: new ManualClock(now), logger });
    expect(await filesOnDisk(root)).toEqual(['x/.tmp~young', 'x/y/kept']);
    expect(logger.records.some((r) => r.msg === 'removed stale temp files' && r.fields['removed'] === 1)).toBe(true);
    expect(dec(await store.get('x/y/kept'))).toBe('an object');
  });

  it('hides hand-made files whose names are not valid keys', async () => {
    const root = freshRoot();
    await using store = await LocalObjectStore.open({ root });
    await store.put('h/ok', enc('x'));
    await writeFile(path.join(root, 'h', 'ctl\u0001name'), 'x');
    expect((await store.list('h/')).objects.map((o) => o.key)).toEqual(['h/ok']);
  });

  it('changes the etag when an object is replaced by one of the same size within the same millisecond', async () => {
    await using store = await LocalObjectStore.open({ root: freshRoot() });
    const etags = new Set<string>();
    for (let i = 0; i < 50; i++) etags.add((await store.put('e/k', enc(`v${i % 10}`))).etag);
    expect(etags.size).toBe(50);
  });

  it('survives 200 concurrent puts and putIfAbsents on a handful of keys with whole objects only', async () => {
    await using store = await LocalObjectStore.open({ root: freshRoot() });
    const body = (i: number): Uint8Array => enc(`${i}:`.padEnd(1000 + (i % 7) * 3000, String(i % 10)));
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 3 === 0
          ? store
              .putIfAbsent(`cc/${i % 5}`, body(i))
              .catch((e: unknown) => expect(ObjectStoreError.is(e, 'ALREADY_EXISTS')).toBe(true))
          : store.put(`cc/${i % 5}`, body(i)),
      ),
    );
    for (let k = 0; k < 5; k++) {
      const text = dec(await store.get(`cc/${k}`));
      const i = Number(text.split(':')[0]);
      expect(text).toBe(dec(body(i)));
      expect(i % 5).toBe(k);
    }
    expect((await store.list('')).objects.map((o) => o.key)).toEqual(['cc/0', 'cc/1', 'cc/2', 'cc/3', 'cc/4']);
  });

  it('opens from a parsed configuration and refuses a root that is a file', async () => {
    const root = freshRoot();
    const config = objectStoreConfigSchema.parse({ kind: 'local', root, maxObjectBytes: 2048 });
    await using store = await openObjectStore(config);
    expect(store.maxObjectBytes).toBe(2048);
    expect(store.kind).toBe('local');
    const file = path.join(dir.path, 'a-file');
    await writeFile(file, 'x');
    await expect(LocalObjectStore.open({ root: file })).rejects.toMatchObject({
      code: expect.stringMatching(/INVALID_ARGUMENT|INVALID_KEY/),
    });
    await expect(LocalObjectStore.open({ root: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await stat(root)).isDirectory()).toBe(true);
  });

  it('lists any key set by pages of any size as the sorted keys with the prefix (property)', async () => {
    // Segments from a small alphabet so prefixes collide often; '.', '-', '/' and non-ASCII exercise the byte order.
    const segment = fc
      .array(fc.constantFrom('a', 'b', '-', '.', 'é', '😀', '0'), { minLength: 1, maxLength: 3 })
      .map((cs) => cs.join(''))
      .filter((s) => s !== '.' && s !== '..');
    const key = fc.array(segment, { minLength: 1, maxLength: 3 }).map((ss) => ss.join('/'));
    // The local store refuses `a` next to `a/b`: keep key sets where no key is a directory of another.
    const keySet = fc
      .uniqueArray(key, { minLength: 0, maxLength: 30 })
      .map((keys) =>
        keys.filter(
          (k) => !keys.some((other) => other !== k && (other.startsWith(`${k}/`) || k.startsWith(`${other}/`))),
        ),
      );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(keySet, fc.integer({ min: 1, max: 7 }), fc.nat(), fc.nat(), async (keys, limit, pick, cut) => {
        await using store = await LocalObjectStore.open({ root: path.join(dir.path, `prop-${++run}`) });
        for (const k of keys) await store.put(k, enc(k));
        const source = keys.length === 0 ? '' : keys[pick % keys.length]!;
        const codePoints = Array.from(source); // never cut a surrogate pair in two
        const prefix = codePoints.slice(0, cut % (codePoints.length + 1)).join('');
        const pages: string[] = [];
        let startAfter: string | undefined;
        for (let n = 0; n < 100; n++) {
          const page = await store.list(prefix, { limit, startAfter });
          expect(page.objects.length).toBeLessThanOrEqual(limit);
          pages.push(...page.objects.map((o) => o.key));
          if (!page.more) break;
          startAfter = page.objects.at(-1)!.key;
        }
        expect(pages).toEqual(keys.filter((k) => k.startsWith(prefix)).sort(compareKeys));
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
