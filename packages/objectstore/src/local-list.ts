import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

import { errnoCode } from './fs-errors.js';
import { compareKeys, isReservedName, isValidKey } from './keys.js';
import { infoOf, statObjectFile } from './local-fs.js';
import type { ObjectInfo, ObjectPage } from './object-store.js';

interface Entry {
  readonly name: string;
  readonly dir: boolean;
  /** What the entry's keys start with: `name` for a file, `name/` for a directory. */
  readonly sortKey: string;
}

async function sortedEntries(dir: string, namePrefix: string): Promise<Entry[]> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const errno = errnoCode(e);
    // No directory (or a file where the prefix expects one): nothing under this prefix.
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return [];
    throw e;
  }
  const entries: Entry[] = [];
  for (const d of dirents) {
    if (!d.name.startsWith(namePrefix) || isReservedName(d.name)) continue;
    // Symlinks, sockets and the like were not written by a store: not objects.
    if (d.isDirectory()) entries.push({ name: d.name, dir: true, sortKey: `${d.name}/` });
    else if (d.isFile()) entries.push({ name: d.name, dir: false, sortKey: d.name });
  }
  // Every key under directory `n` starts with `n/`, and no file name contains `/`, so ordering files
  // by name and directories by `name/` orders the keys of the whole subtree correctly.
  return entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
}

/**
 * Yields the keys under `dir` (whose keys start with `keyPrefix`) in ascending order, skipping
 * subtrees that hold only keys ≤ `startAfter`.
 */
async function* walk(
  dir: string,
  keyPrefix: string,
  namePrefix: string,
  startAfter: string | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<string> {
  signal?.throwIfAborted();
  for (const entry of await sortedEntries(dir, namePrefix)) {
    const full = keyPrefix + entry.sortKey;
    if (!entry.dir) {
      if (startAfter === undefined || compareKeys(full, startAfter) > 0) yield full;
      continue;
    }
    if (startAfter !== undefined && !startAfter.startsWith(full) && compareKeys(full, startAfter) < 0) continue;
    yield* walk(path.join(dir, entry.name), full, '', startAfter, signal);
  }
}

/**
 * One page of the local store's listing: walks the directory of the prefix's complete segments,
 * matching the partial last segment against entry names, and collects `limit + 1` valid keys to know
 * whether more follow. Files that vanish between readdir and stat are skipped.
 */
export async function listLocalPage(
  root: string,
  prefix: string,
  startAfter: string | undefined,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<ObjectPage> {
  const cut = prefix.lastIndexOf('/') + 1;
  const dirKey = prefix.slice(0, cut);
  const dir = path.join(root, ...dirKey.split('/').filter(Boolean));
  const objects: ObjectInfo[] = [];
  let more = false;
  for await (const key of walk(dir, dirKey, prefix.slice(cut), startAfter, signal)) {
    // Hand-made files with names that are not valid keys cannot be read through the store: hide them.
    if (!isValidKey(key)) continue;
    const st = await statObjectFile(path.join(root, ...key.split('/')));
    if (st === undefined) continue;
    if (objects.length === limit) {
      more = true;
      break;
    }
    objects.push(infoOf(key, st));
  }
  return { objects, more };
}
