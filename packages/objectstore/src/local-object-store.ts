import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

import { CloseOnce, noopLogger, systemClock } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';

import { ObjectStoreError, ObjectStoreErrorCode } from './errors.js';
import { errnoCode, fsErrorToObjectStoreError, keyConflict } from './fs-errors.js';
import { CallGate, checkData, checkLimit, checkMaxObjectBytes, checkRange } from './guards.js';
import { checkKey, checkPrefix, showKey } from './keys.js';
import {
  DurableDirs,
  fsyncDir,
  infoOf,
  mkdirRecursive,
  statObjectFile,
  sweepTempFiles,
  tempName,
  unlinkQuietly,
  writeDurableFile,
} from './local-fs.js';
import { listLocalPage } from './local-list.js';
import type {
  ByteRange,
  ListObjectsOptions,
  ObjectInfo,
  ObjectPage,
  ObjectStore,
  ObjectStoreCapabilities,
  PutObjectOptions,
} from './object-store.js';

/** Options of {@link LocalObjectStore.open}. */
export interface LocalObjectStoreOptions {
  /** Directory holding the objects (one file per key, `/` = subdirectory). Created when missing. */
  readonly root: string;
  /** Largest object accepted. Default 64 MiB (the S3 adapter's default, so code behaves alike). */
  readonly maxObjectBytes?: number;
  /**
   * On open, temp files older than this are deleted: leftovers of writers killed mid-put. Younger
   * ones may belong to another live process using the same root. Default 15 minutes.
   */
  readonly staleTempMs?: number;
  readonly logger?: Logger;
  /** Source of "now" for the stale-temp sweep. Default: the system clock. */
  readonly clock?: Clock;
}

const DEFAULT_STALE_TEMP_MS = 15 * 60_000;
// Node's Buffer limit; larger objects could not be read back whole anyway.
const MAX_LOCAL_OBJECT_BYTES = 2 ** 32;

/**
 * The ObjectStore on a local filesystem: each object is a file under `root` at its key's path.
 *
 * - `put` writes a temp file in the target's directory, fsyncs it, renames it over the target and
 *   fsyncs the directory: a crash leaves the old or the new object, never a torn one.
 * - `putIfAbsent` does the same but commits with `link(temp, target)`, which fails atomically when
 *   the target exists, so exactly one of any number of concurrent callers (threads or processes) wins.
 * - Temp files use the reserved `.tmp~` names and are never listed or readable.
 * - Deletes leave empty directories behind, so a concurrent put never loses its directory.
 *
 * Several processes may share one root.
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local';
  readonly capabilities: ObjectStoreCapabilities = { atomicPutIfAbsent: true };
  readonly maxObjectBytes: number;
  /** The absolute root directory. */
  readonly root: string;
  readonly #log: Logger;
  readonly #dirs: DurableDirs;
  readonly #gate = new CallGate();
  readonly #closeOnce = new CloseOnce();

  private constructor(root: string, maxObjectBytes: number, log: Logger) {
    this.root = root;
    this.maxObjectBytes = maxObjectBytes;
    this.#log = log;
    this.#dirs = new DurableDirs(root);
  }

  /**
   * Creates `root` if needed (durably), sweeps stale temp files and returns the store.
   * @throws {ObjectStoreError} INVALID_ARGUMENT for bad options; ACCESS_DENIED when the root cannot be
   *   created or written; the signal's reason on abort (nothing is left half-done).
   */
  static async open(options: LocalObjectStoreOptions, callOptions: CallOptions = {}): Promise<LocalObjectStore> {
    const { signal } = callOptions;
    signal?.throwIfAborted();
    if (typeof options.root !== 'string' || options.root === '') {
      throw new ObjectStoreError(ObjectStoreErrorCode.INVALID_ARGUMENT, 'root must be a non-empty path');
    }
    const maxObjectBytes = checkMaxObjectBytes(options.maxObjectBytes, MAX_LOCAL_OBJECT_BYTES);
    const staleTempMs = options.staleTempMs ?? DEFAULT_STALE_TEMP_MS;
    // A small value would delete the temp files of writers still running in other processes.
    if (!Number.isSafeInteger(staleTempMs) || staleTempMs < 1000) {
      throw new ObjectStoreError(
        ObjectStoreErrorCode.INVALID_ARGUMENT,
        `staleTempMs must be an integer >= 1000, got ${String(staleTempMs)}`,
      );
    }
    const root = path.resolve(options.root);
    const log = (options.logger ?? noopLogger).child({ component: 'objectstore', store: 'local', root });
    try {
      const created = await mkdirRecursive(root).catch((e: unknown) => {
        if (errnoCode(e) !== 'ENOTDIR') throw e;
        throw new ObjectStoreError(ObjectStoreErrorCode.INVALID_ARGUMENT, `root ${root} is not a directory`, {
          cause: e,
        });
      });
      if (created !== undefined) {
        // Make the new directories' entries durable, from the first one created up to the root.
        for (let d = root; d.startsWith(created); d = path.dirname(d)) await fsyncDir(path.dirname(d));
      }
      const clock = options.clock ?? systemClock;
      const removed = await sweepTempFiles(root, clock.nowMs() - staleTempMs, signal);
      if (removed > 0) log.info({ removed }, 'removed stale temp files');
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw fsErrorToObjectStoreError(e, { op: 'open', path: root });
    }
    log.debug({ maxObjectBytes }, 'opened');
    return new LocalObjectStore(root, maxObjectBytes, log);
  }

  /** The file that holds `key` (which must be valid). */
  #fileOf(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  put(key: string, data: Uint8Array, options: PutObjectOptions = {}): Promise<ObjectInfo> {
    return this.#gate.run('put', options.signal, () => this.#write('put', key, data, options.signal));
  }

  putIfAbsent(key: string, data: Uint8Array, options: PutObjectOptions = {}): Promise<ObjectInfo> {
    return this.#gate.run('putIfAbsent', options.signal, () => this.#write('putIfAbsent', key, data, options.signal));
  }

  async #write(op: 'put' | 'putIfAbsent', key: string, data: Uint8Array, signal?: AbortSignal): Promise<ObjectInfo> {
    checkKey(key);
    checkData(key, data, this.maxObjectBytes);
    const file = this.#fileOf(key);
    const dir = path.dirname(file);
    const temp = path.join(dir, tempName());
    try {
      await this.#dirs.ensure(dir);
      const st = await writeDurableFile(temp, data);
      let renamed = false;
      try {
        // Last point where an abort leaves nothing behind; past it the write completes.
        signal?.throwIfAborted();
        if (op === 'put') {
          await rename(temp, file);
          renamed = true;
        } else {
          await this.#link(key, temp, file);
        }
      } finally {
        // After a rename the temp name is gone; after a link (or a failure) it must be removed.
        if (!renamed) await unlinkQuietly(temp);
      }
      await fsyncDir(dir);
      return infoOf(key, st);
    } catch (e) {
      if (signal?.aborted && e === signal.reason) throw e;
      throw fsErrorToObjectStoreError(e, { op, key, path: file });
    }
  }

  async #link(key: string, temp: string, file: string): Promise<void> {
    try {
      await link(temp, file);
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
      if ((await statObjectFile(file)) === undefined) {
        // EEXIST from a directory at the target: a key conflict, not an existing object.
        throw keyConflict({ op: 'putIfAbsent', key, path: file }, e);
      }
      throw new ObjectStoreError(ObjectStoreErrorCode.ALREADY_EXISTS, `putIfAbsent ${showKey(key)}: the key exists`, {
        details: { key },
      });
    }
  }

  get(key: string, options: CallOptions = {}): Promise<Uint8Array> {
    const { signal } = options;
    return this.#gate.run('get', signal, async () => {
      checkKey(key);
      const file = this.#fileOf(key);
      try {
        return await readFile(file, signal ? { signal } : {});
      } catch (e) {
        throw this.#readError('get', key, file, e, signal);
      }
    });
  }

  getRange(key: string, range: ByteRange, options: CallOptions = {}): Promise<Uint8Array> {
    const { signal } = options;
    return this.#gate.run('getRange', signal, async () => {
      checkKey(key);
      checkRange(range);
      const file = this.#fileOf(key);
      try {
        const handle = await open(file, 'r');
        try {
          const st = await handle.stat();
          // open(2) succeeds on a directory (`a` when `a/b` exists): no object there.
          if (!st.isFile()) throw Object.assign(new Error(`EISDIR: ${file} is a directory`), { code: 'EISDIR' });
          const size = st.size;
          const start = Math.min(range.offset, size);
          const length = Math.min(range.length ?? size - start, size - start);
          const out = new Uint8Array(length);
          // read() may return fewer bytes than asked; a bounded loop, it ends at EOF.
          for (let done = 0; done < length;) {
            signal?.throwIfAborted();
            const { bytesRead } = await handle.read(out, done, length - done, start + done);
            if (bytesRead === 0) return out.subarray(0, done); // truncated under us: impossible for renamed files
            done += bytesRead;
          }
          return out;
        } finally {
          await handle.close();
        }
      } catch (e) {
        throw this.#readError('getRange', key, file, e, signal);
      }
    });
  }

  #readError(op: string, key: string, file: string, e: unknown, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason;
    const errno = errnoCode(e);
    // A directory or a path under a file is "no object here", not a conflict, for readers.
    if (errno === 'ENOENT' || errno === 'ENOTDIR' || errno === 'EISDIR') {
      return new ObjectStoreError(ObjectStoreErrorCode.NOT_FOUND, `${op} ${showKey(key)}: no such object`, {
        cause: e,
        details: { key },
      });
    }
    return fsErrorToObjectStoreError(e, { op, key, path: file });
  }

  head(key: string, options: CallOptions = {}): Promise<ObjectInfo | undefined> {
    return this.#gate.run('head', options.signal, async () => {
      checkKey(key);
      const file = this.#fileOf(key);
      try {
        const st = await statObjectFile(file);
        return st && infoOf(key, st);
      } catch (e) {
        throw fsErrorToObjectStoreError(e, { op: 'head', key, path: file });
      }
    });
  }

  list(prefix: string, options: ListObjectsOptions = {}): Promise<ObjectPage> {
    const { signal } = options;
    return this.#gate.run('list', signal, async () => {
      checkPrefix(prefix);
      const limit = checkLimit(options.limit);
      try {
        return await listLocalPage(this.root, prefix, options.startAfter, limit, signal);
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        throw fsErrorToObjectStoreError(e, { op: 'list', path: prefix });
      }
    });
  }

  delete(key: string, options: CallOptions = {}): Promise<void> {
    return this.#gate.run('delete', options.signal, async () => {
      checkKey(key);
      const file = this.#fileOf(key);
      try {
        await unlink(file);
      } catch (e) {
        const errno = errnoCode(e);
        // Missing, under a file, or a directory: there is no object to delete.
        if (errno === 'ENOENT' || errno === 'ENOTDIR' || errno === 'EISDIR') return;
        throw fsErrorToObjectStoreError(e, { op: 'delete', key, path: file });
      }
      try {
        await fsyncDir(path.dirname(file));
      } catch (e) {
        throw fsErrorToObjectStoreError(e, { op: 'delete', key, path: file });
      }
    });
  }

  close(): Promise<void> {
    return this.#closeOnce.run(async () => {
      await this.#gate.close();
      this.#log.debug('closed');
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
