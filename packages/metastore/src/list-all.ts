import type { CallOptions } from '@streamsvc/common';

import { MetaKvError, MetaKvErrorCode } from './errors.js';
import type { KeyValue, MetaKv } from './meta-kv.js';

/** Options of {@link listAll}. */
export interface ListAllOptions extends CallOptions {
  /** Keys per request, 1..10000. Default 1000. */
  readonly pageSize?: number;
  /** Stop with INVALID_ARGUMENT past this many keys, so a runaway prefix cannot exhaust memory. Default 1 000 000. */
  readonly maxKeys?: number;
}

/**
 * Reads every key under `prefix` as one consistent snapshot: the first page fixes the revision and
 * every later page is read at it, so the result is exactly the key space at `revision` (follow with a
 * watch from `revision + 1` to miss nothing).
 * @throws {MetaKvError} COMPACTED when the snapshot revision is compacted while paging (retry); the
 *   errors of `MetaKv.list`.
 * Abort: the read is abandoned.
 */
export async function listAll(
  kv: MetaKv,
  prefix: string,
  options: ListAllOptions = {},
): Promise<{ kvs: KeyValue[]; revision: bigint }> {
  const maxKeys = options.maxKeys ?? 1_000_000;
  const first = await kv.list(prefix, { limit: options.pageSize, signal: options.signal });
  const kvs = [...first.kvs];
  let more = first.more;
  // Bounded: every round adds at least one key (`more` implies a non-empty page) and maxKeys caps the total.
  while (more) {
    if (kvs.length > maxKeys) {
      throw new MetaKvError(
        MetaKvErrorCode.INVALID_ARGUMENT,
        `listAll: more than ${maxKeys} keys under ${JSON.stringify(prefix)}`,
      );
    }
    const page = await kv.list(prefix, {
      limit: options.pageSize,
      startAfter: kvs[kvs.length - 1]!.key,
      atRevision: first.revision,
      signal: options.signal,
    });
    kvs.push(...page.kvs);
    more = page.more && page.kvs.length > 0;
  }
  return { kvs, revision: first.revision };
}
