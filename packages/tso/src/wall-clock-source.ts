import { tsAtMs } from './hybrid-ts.js';
import type { TsoSource } from './global-allocator.js';

/**
 * A {@link TsoSource} for one process that needs no cluster: blocks start at the wall clock (or right
 * after the previous block, if the clock has not moved past it) and never repeat within the process.
 * Nothing is persisted, so a restart may hand out timestamps again if the clock went back: for tests,
 * benchmarks and tools that own their WALs in process. A node takes its blocks from the coordinator's
 * `GlobalTsoAllocator`.
 */
export function wallClockTsoSource(): TsoSource {
  let next = tsAtMs(Date.now());
  return {
    allocate: async (count) => {
      const now = tsAtMs(Date.now());
      if (now > next) next = now;
      const first = next;
      next += BigInt(count);
      return first;
    },
  };
}
