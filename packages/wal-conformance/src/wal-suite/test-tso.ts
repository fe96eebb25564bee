import { BatchTsoAllocator, tsAtMs } from '@streamsvc/tso';
import type { TsoSource } from '@streamsvc/tso';

/**
 * An in-process stand-in for the cluster's global TSO: blocks follow the wall clock (so keepalives,
 * measured on the physical part, mean real milliseconds) and every block is above every earlier one.
 * One source per suite run plays the coordinator; each WAL gets its own {@link BatchTsoAllocator} over
 * it, as each streaming node would, so a WAL reopened under a new term stamps above the old owner.
 */
export function testTsoSource(): TsoSource {
  let next = tsAtMs(Date.now());
  return {
    allocate: async (count: number) => {
      const now = tsAtMs(Date.now());
      if (now > next) next = now;
      const first = next;
      next += BigInt(count);
      return first;
    },
  };
}

/** A node allocator over `source` (what `Wal.open` takes as `tso`). */
export function nodeTso(source: TsoSource): BatchTsoAllocator {
  return new BatchTsoAllocator({ source });
}
