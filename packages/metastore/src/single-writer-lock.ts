/**
 * Makes sure only one process (and one store within it) writes an embedded database at a time.
 *
 * LMDB itself happily lets several processes write one environment, and two embedded stores would each
 * keep their own revision counter, lease timers and watchers in memory — so a second writer must be
 * refused, not serialised. The lock is a listening Unix socket: the kernel releases it the instant the
 * holder dies (including `kill -9`), so there is no stale lock file and no PID-reuse guessing.
 *
 * - Linux: an abstract socket named after the database's real path (no file at all; binding is atomic).
 * - Elsewhere: a socket file in the database directory; a leftover file from a dead holder is detected
 *   by a refused connection and replaced. Two processes recovering the same stale file at the same
 *   instant could both succeed there — a narrow window this fallback accepts.
 */
import { createHash } from 'node:crypto';
import { realpath, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

import { MetaKvError, MetaKvErrorCode } from './errors.js';

/** A held lock; `release()` frees it (idempotent). */
export interface SingleWriterLock {
  readonly description: string;
  release(): Promise<void>;
}

function listen(address: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ path: address, exclusive: true }, () => {
      server.off('error', reject);
      // The lock must never keep the process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

function holderAlive(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: address });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code !== 'ECONNREFUSED' && e.code !== 'ENOENT'));
  });
}

function locked(dir: string, cause: unknown): MetaKvError {
  return new MetaKvError(
    MetaKvErrorCode.LOCKED,
    `the embedded database at ${dir} is already open for writing by another store (this process or another one)`,
    { cause, details: { path: dir } },
  );
}

/**
 * Takes the lock for the database directory `dir` (which must exist).
 * @throws {MetaKvError} LOCKED when another store holds it.
 */
export async function acquireSingleWriterLock(dir: string): Promise<SingleWriterLock> {
  const real = await realpath(dir);
  const linux = process.platform === 'linux';
  const address = linux
    ? `\0streamsvc-metastore-${createHash('sha256').update(real).digest('hex')}`
    : path.join(real, 'writer.lock.sock');
  let server: net.Server;
  try {
    server = await listen(address);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    if (linux || (await holderAlive(address))) throw locked(real, e);
    await unlink(address).catch(() => {});
    try {
      server = await listen(address);
    } catch (e2) {
      throw locked(real, e2);
    }
  }
  let released: Promise<void> | undefined;
  return {
    description: linux ? 'abstract unix socket' : address,
    release() {
      released ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}
