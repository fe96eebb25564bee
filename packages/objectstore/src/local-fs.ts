import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

import { errnoCode } from './fs-errors.js';
import { RESERVED_SEGMENT_PREFIX, isReservedName } from './keys.js';
import type { ObjectInfo } from './object-store.js';

/**
 * A fresh temp-file name in the reserved namespace. Fixed length (not derived from the key) so it
 * fits NAME_MAX whatever the target's name; 96 random bits so concurrent writers never collide.
 */
export function tempName(): string {
  return `${RESERVED_SEGMENT_PREFIX}${randomBytes(12).toString('hex')}`;
}

/** fsyncs a directory so the entries created, renamed or removed in it survive a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to a new file at `file` (which must not exist), fsyncs it and returns its stat.
 * The file is removed again if anything fails.
 */
export async function writeDurableFile(file: string, data: Uint8Array): Promise<BigIntStats> {
  const handle = await open(file, 'wx', 0o644);
  try {
    try {
      await handle.writeFile(data);
      // fsync, not fdatasync: the size is metadata and must be durable too.
      await handle.sync();
      return await handle.stat({ bigint: true });
    } finally {
      await handle.close();
    }
  } catch (e) {
    await unlinkQuietly(file);
    throw e;
  }
}

/** Removes a file, ignoring every error (used on cleanup paths that already have an error to report). */
export async function unlinkQuietly(file: string): Promise<void> {
  await unlink(file).catch(() => {});
}

/**
 * `mkdir -p`, returning the first directory created (if any). A file where the last directory should
 * be makes mkdir fail with EEXIST, which would read as "object exists"; it is reported as ENOTDIR,
 * like a file at any other position of the path.
 */
export async function mkdirRecursive(dir: string): Promise<string | undefined> {
  try {
    return await mkdir(dir, { recursive: true });
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', cause: e });
  }
}

/**
 * Creates directories under `root` and makes their entries durable. A directory entry created by
 * `mkdir` is lost on power failure unless its parent is fsynced, and another process may have created
 * the directory and crashed before doing so; so the first time this store uses a directory it fsyncs
 * every ancestor up to `root`, and remembers that it did. Directories are never removed (deletes leave
 * them empty), so what is remembered stays true.
 */
export class DurableDirs {
  readonly #root: string;
  readonly #done = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.#root = root;
  }

  /** Ensures `dir` (inside the root) exists and is durable. */
  ensure(dir: string): Promise<void> {
    let pending = this.#done.get(dir);
    if (pending === undefined) {
      pending = this.#create(dir);
      this.#done.set(dir, pending);
      // A failure (ENOTDIR conflict, EACCES) must be retried next time, not remembered.
      pending.catch(() => this.#done.delete(dir));
    }
    return pending;
  }

  async #create(dir: string): Promise<void> {
    await mkdirRecursive(dir);
    for (let d = dir; d !== this.#root && d.startsWith(this.#root); d = path.dirname(d)) {
      await fsyncDir(path.dirname(d));
    }
  }
}

/**
 * The etag of a local object: device, inode, size and mtime (ns). A put writes a new file and renames
 * it over the old one, so a replacement has a new inode while the old file still exists, and a new
 * mtime; reading content to hash it would make `head` and `list` cost a full read. (ctime is left out
 * because `rename` and `link` change it without changing the object.)
 */
export function etagOf(st: BigIntStats): string {
  return `${st.dev.toString(36)}-${st.ino.toString(36)}-${st.size.toString(36)}-${st.mtimeNs.toString(36)}`;
}

/** The {@link ObjectInfo} of a regular file holding `key`. */
export function infoOf(key: string, st: BigIntStats): ObjectInfo {
  return { key, size: Number(st.size), etag: etagOf(st), lastModifiedMs: Number(st.mtimeNs / 1_000_000n) };
}

/** Stat of `file` when it is a regular file; `undefined` when missing, a directory, or under a file. */
export async function statObjectFile(file: string): Promise<BigIntStats | undefined> {
  try {
    const st = await stat(file, { bigint: true });
    return st.isFile() ? st : undefined;
  } catch (e) {
    const errno = errnoCode(e);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * Removes reserved temp files older than `olderThanMs` (by mtime) anywhere under `root`: leftovers of
 * writers killed between creating and renaming them. Younger ones may belong to a live writer in
 * another process sharing the root, so they stay. Returns how many were removed.
 */
export async function sweepTempFiles(root: string, olderThanMs: number, signal?: AbortSignal): Promise<number> {
  let removed = 0;
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    signal?.throwIfAborted();
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && !isReservedName(entry.name)) pending.push(full);
      else if (entry.isFile() && isReservedName(entry.name)) {
        const st = await stat(full).catch(() => undefined);
        if (st && st.mtimeMs < olderThanMs) {
          await unlinkQuietly(full);
          removed++;
        }
      }
    }
  }
  return removed;
}
