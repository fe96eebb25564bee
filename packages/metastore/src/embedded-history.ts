/**
 * Reading the embedded store's bounded change history: replaying it to watchers, and reading the key
 * space as it was at an older revision. The history keeps, for each change, the key's state before
 * it, so the state at revision R is the current state with every change after R undone.
 *
 * Revisions older than the `compactRevision` (history dropped by retention) cannot be read: COMPACTED.
 */
import { compareBytes, prefixEnd, utf8 } from './bytes.js';
import type { EmbeddedDbs } from './embedded-mvcc.js';
import { META, rangeKvs, requireMeta } from './embedded-mvcc.js';
import type { StoredEvent, StoredKv } from './embedded-records.js';
import { decodeEvent, histKey, histKeyRevision } from './embedded-records.js';
import { bytesToKeyValue } from './embedded-txn.js';
import { MetaKvError, MetaKvErrorCode } from './errors.js';
import type { KeyValue } from './meta-kv.js';

/** A history entry with the revision it happened at. */
export interface RevisionedEvent {
  readonly revision: bigint;
  readonly event: StoredEvent;
}

/** Rejects revisions the history no longer covers. */
export function checkNotCompacted(dbs: EmbeddedDbs, revision: bigint, what: string): void {
  const compactRevision = requireMeta(dbs, META.compactRevision);
  if (revision < compactRevision) {
    throw new MetaKvError(
      MetaKvErrorCode.COMPACTED,
      `${what} ${revision} is compacted; the oldest readable revision is ${compactRevision}`,
      { details: { revision: String(revision), compactRevision: String(compactRevision) } },
    );
  }
}

/** Changes with `from <= revision <= to`, in revision order (and in order within a revision). */
export function* readHistory(dbs: EmbeddedDbs, from: bigint, to: bigint): Generator<RevisionedEvent> {
  if (from > to) return;
  for (const entry of dbs.hist.getRange({ start: histKey(from, 0), end: histKey(to + 1n, 0) })) {
    yield { revision: histKeyRevision(entry.key), event: decodeEvent(entry.value) };
  }
}

/** Latin-1 string of bytes: a cheap, exact Map key for byte strings. */
function mapKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function inRange(key: Uint8Array, start: Uint8Array, end: Uint8Array | undefined): boolean {
  return compareBytes(key, start) >= 0 && (end === undefined || compareBytes(key, end) < 0);
}

/** What a `list` page needs. All revisions must already be checked against the store. */
export interface ListRequest {
  readonly prefix: string;
  readonly startAfter: string | undefined;
  readonly limit: number;
  /** The revision to read at; `currentRevision` for the latest state. */
  readonly atRevision: bigint;
  readonly currentRevision: bigint;
}

/**
 * One page of keys under `prefix` as of `atRevision`, read from the current state plus the undo
 * information of every change after `atRevision`. Must run inside one read snapshot.
 */
export function listAt(dbs: EmbeddedDbs, request: ListRequest): { kvs: KeyValue[]; more: boolean } {
  const prefix = utf8(request.prefix);
  const end = prefixEnd(prefix);
  let start = prefix;
  if (request.startAfter !== undefined) {
    // The smallest key strictly after `startAfter` is `startAfter` followed by a zero byte.
    const after = utf8(request.startAfter + '\0');
    if (compareBytes(after, start) > 0) start = after;
  }
  if (end !== undefined && compareBytes(start, end) >= 0) return { kvs: [], more: false };

  // Undo: the first change after atRevision to each key carries the key's state at atRevision.
  const overlay = new Map<string, { key: Uint8Array; kv: StoredKv | undefined }>();
  for (const { event } of readHistory(dbs, request.atRevision + 1n, request.currentRevision)) {
    if (!inRange(event.key, start, end)) continue;
    const k = mapKey(event.key);
    if (!overlay.has(k)) overlay.set(k, { key: event.key, kv: event.prev });
  }
  const extra = [...overlay.values()].sort((a, b) => compareBytes(a.key, b.key));

  const kvs: KeyValue[] = [];
  let more = false;
  let x = 0;
  const emit = (key: Uint8Array, kv: StoredKv | undefined): boolean => {
    if (!kv) return true;
    if (kvs.length === request.limit) {
      more = true;
      return false;
    }
    kvs.push(bytesToKeyValue(key, kv));
    return true;
  };
  const current = rangeKvs(dbs, start, end);
  try {
    for (const { key, kv } of current) {
      // Keys that existed at atRevision but are gone now come from the overlay, in order.
      while (x < extra.length && compareBytes(extra[x]!.key, key) < 0) {
        if (!emit(extra[x]!.key, extra[x]!.kv)) return { kvs, more };
        x++;
      }
      if (x < extra.length && compareBytes(extra[x]!.key, key) === 0) {
        if (!emit(key, extra[x]!.kv)) return { kvs, more };
        x++;
        continue;
      }
      if (!emit(key, kv)) return { kvs, more };
    }
    for (; x < extra.length; x++) if (!emit(extra[x]!.key, extra[x]!.kv)) return { kvs, more };
    return { kvs, more };
  } finally {
    current.return(undefined);
  }
}
