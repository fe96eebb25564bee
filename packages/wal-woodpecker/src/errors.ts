import { isAbortError, isCodedError } from '@streamsvc/common';
import { MetaKvError } from '@streamsvc/metastore';
import { ObjectStoreError } from '@streamsvc/objectstore';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

/** Where an error happened, for its message: `append on pchannel "x"`, `recovery of segment 3`, ... */
export type ErrorContext = string;

interface Translation {
  readonly code: WalErrorCode;
  /** Overrides the code's default retriability (UNAVAILABLE is retriable unless this says no). */
  readonly retriable?: boolean;
}

// One table per foreign error family: the complete mapping is readable (and tested) in one place.
const META_KV: Readonly<Record<string, Translation>> = {
  UNAVAILABLE: { code: WalErrorCode.UNAVAILABLE },
  COMPACTED: { code: WalErrorCode.UNAVAILABLE },
  LOCKED: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  CLOSED: { code: WalErrorCode.CLOSED },
  CORRUPT: { code: WalErrorCode.CORRUPT },
  INVALID_ARGUMENT: { code: WalErrorCode.INVALID_ARGUMENT },
  LEASE_NOT_FOUND: { code: WalErrorCode.UNAVAILABLE },
  SESSION_LOST: { code: WalErrorCode.UNAVAILABLE },
};

const OBJECT_STORE: Readonly<Record<string, Translation>> = {
  UNAVAILABLE: { code: WalErrorCode.UNAVAILABLE },
  NOT_FOUND: { code: WalErrorCode.CORRUPT },
  ALREADY_EXISTS: { code: WalErrorCode.FENCED },
  INVALID_KEY: { code: WalErrorCode.INVALID_ARGUMENT },
  INVALID_ARGUMENT: { code: WalErrorCode.INVALID_ARGUMENT },
  ACCESS_DENIED: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  UNSUPPORTED: { code: WalErrorCode.INVALID_CONFIG },
  CLOSED: { code: WalErrorCode.CLOSED },
  INTERNAL: { code: WalErrorCode.UNAVAILABLE, retriable: false },
};

// Node's errno codes from the local medium. A full disk or an I/O error may clear up (retriable);
// permissions and a read-only file system need an operator.
const ERRNO: Readonly<Record<string, Translation>> = {
  ENOSPC: { code: WalErrorCode.UNAVAILABLE },
  EDQUOT: { code: WalErrorCode.UNAVAILABLE },
  EIO: { code: WalErrorCode.UNAVAILABLE },
  EMFILE: { code: WalErrorCode.UNAVAILABLE },
  ENFILE: { code: WalErrorCode.UNAVAILABLE },
  EAGAIN: { code: WalErrorCode.UNAVAILABLE },
  EBUSY: { code: WalErrorCode.UNAVAILABLE },
  EINTR: { code: WalErrorCode.UNAVAILABLE },
  EACCES: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  EPERM: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  EROFS: { code: WalErrorCode.UNAVAILABLE, retriable: false },
  ENOENT: { code: WalErrorCode.CORRUPT },
  EISDIR: { code: WalErrorCode.INVALID_CONFIG },
  ENOTDIR: { code: WalErrorCode.INVALID_CONFIG },
  EBADF: { code: WalErrorCode.CLOSED },
};

/**
 * Translates anything the MetaKv, the ObjectStore or the file system threw into a {@link WalError},
 * once, at the edge of the backend. WalErrors and abort errors pass through unchanged (an abort keeps
 * the caller's reason, as the SPI requires). Unknown errors become a non-retriable UNAVAILABLE that
 * keeps the cause.
 */
export function toWalError(e: unknown, context: ErrorContext): unknown {
  if (WalError.is(e) || isAbortError(e)) return e;
  const why = e instanceof Error ? e.message : String(e);
  let translation: Translation | undefined;
  if (MetaKvError.is(e)) translation = META_KV[e.code];
  else if (ObjectStoreError.is(e)) translation = OBJECT_STORE[e.code];
  else if (isErrno(e)) translation = ERRNO[e.code];
  else if (isCodedError(e)) translation = { code: WalErrorCode.UNAVAILABLE, retriable: false };
  const { code, retriable } = translation ?? { code: WalErrorCode.UNAVAILABLE, retriable: false };
  return new WalError(code, `${context}: ${why}`, {
    cause: e,
    ...(retriable === undefined ? {} : { retriable }),
  });
}

/** {@link toWalError} for `throw` sites: always returns something throwable. */
export function asWalError(e: unknown, context: ErrorContext): Error {
  const translated = toWalError(e, context);
  return translated instanceof Error ? translated : new WalError(WalErrorCode.UNAVAILABLE, `${context}: ${String(e)}`);
}

/** The error of data that failed its checksum or structure, naming exactly where. */
export function corruptBlock(where: BlockWhere, why: string): WalError {
  return new WalError(
    WalErrorCode.CORRUPT,
    `pchannel "${where.pchannel}" segment ${where.segmentId} block ${where.blockNo}${where.location ? ` (${where.location})` : ''}: ${why}`,
    { details: { pchannel: where.pchannel, segmentId: where.segmentId, blockNo: where.blockNo } },
  );
}

/** Names one block of one log, for CORRUPT errors. */
export interface BlockWhere {
  readonly pchannel: string;
  readonly segmentId: number;
  readonly blockNo: number;
  /** `file /x/3.log offset 4096` or `object wp/x/3/7.blk`. */
  readonly location?: string;
}

/** The error of a writer a newer one took over from. */
export function fencedError(pchannel: string, term: bigint, why: string): WalError {
  return new WalError(WalErrorCode.FENCED, `pchannel "${pchannel}" under term ${term}: ${why}`, {
    details: { pchannel, term: String(term) },
  });
}

function isErrno(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && 'errno' in e;
}
