import { ObjectStoreError, ObjectStoreErrorCode } from './errors.js';
import { showKey } from './keys.js';

/** What the local adapter was doing when a filesystem call failed. */
export interface FsErrorContext {
  readonly op: string;
  readonly key?: string;
  /** The file or directory the failing call touched (for logs). */
  readonly path?: string;
}

const CODE_BY_ERRNO: Readonly<Record<string, ObjectStoreErrorCode>> = {
  ENOENT: ObjectStoreErrorCode.NOT_FOUND,
  EEXIST: ObjectStoreErrorCode.ALREADY_EXISTS,
  // A path component is a file (`a` exists, writing `a/b`) or the target is a directory (`a/b`
  // exists, writing `a`): the key set is not portable to a filesystem.
  ENOTDIR: ObjectStoreErrorCode.INVALID_KEY,
  EISDIR: ObjectStoreErrorCode.INVALID_KEY,
  ENAMETOOLONG: ObjectStoreErrorCode.INVALID_KEY,
  EACCES: ObjectStoreErrorCode.ACCESS_DENIED,
  EPERM: ObjectStoreErrorCode.ACCESS_DENIED,
  EROFS: ObjectStoreErrorCode.ACCESS_DENIED,
  // Transient from the caller's point of view: space can be freed (WAL truncation), descriptors
  // released, a flaky device retried.
  ENOSPC: ObjectStoreErrorCode.UNAVAILABLE,
  EDQUOT: ObjectStoreErrorCode.UNAVAILABLE,
  EIO: ObjectStoreErrorCode.UNAVAILABLE,
  EMFILE: ObjectStoreErrorCode.UNAVAILABLE,
  ENFILE: ObjectStoreErrorCode.UNAVAILABLE,
  EAGAIN: ObjectStoreErrorCode.UNAVAILABLE,
  EBUSY: ObjectStoreErrorCode.UNAVAILABLE,
  EINTR: ObjectStoreErrorCode.UNAVAILABLE,
  ETIMEDOUT: ObjectStoreErrorCode.UNAVAILABLE,
  ESTALE: ObjectStoreErrorCode.UNAVAILABLE,
};

/** The errno name (`ENOENT`, ...) of a Node filesystem error, if it has one. */
export function errnoCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

const CONFLICT_HINT =
  'the key conflicts with an existing key on the local store (a key cannot also be a directory of other keys)';

/**
 * Translates a Node filesystem error into an {@link ObjectStoreError} (an ObjectStoreError passes
 * through unchanged). Unknown errors become INTERNAL with the original as `cause`.
 */
export function fsErrorToObjectStoreError(e: unknown, ctx: FsErrorContext): ObjectStoreError {
  if (ObjectStoreError.is(e)) return e;
  const errno = errnoCode(e);
  const code = (errno && CODE_BY_ERRNO[errno]) || ObjectStoreErrorCode.INTERNAL;
  const what = ctx.key === undefined ? ctx.op : `${ctx.op} ${showKey(ctx.key)}`;
  const conflict = code === ObjectStoreErrorCode.INVALID_KEY && errno !== 'ENAMETOOLONG';
  const reason = conflict ? `${CONFLICT_HINT} (${errno})` : e instanceof Error ? e.message : String(e);
  return new ObjectStoreError(code, `${what}: ${reason}`, {
    cause: e,
    details: { op: ctx.op, key: ctx.key, path: ctx.path, errno },
  });
}

/**
 * INVALID_KEY for a key whose path clashes with a directory or a file of another key (`a` next to
 * `a/b`), found without an errno (e.g. `link` reports a directory target as EEXIST).
 */
export function keyConflict(ctx: FsErrorContext, cause?: unknown): ObjectStoreError {
  const what = ctx.key === undefined ? ctx.op : `${ctx.op} ${showKey(ctx.key)}`;
  return new ObjectStoreError(ObjectStoreErrorCode.INVALID_KEY, `${what}: ${CONFLICT_HINT}`, {
    cause,
    details: { op: ctx.op, key: ctx.key, path: ctx.path },
  });
}
