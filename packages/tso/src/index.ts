/**
 * @streamsvc/tso — hybrid timestamps as `bigint`, the global allocator and the node batch allocator.
 *
 * ```ts
 * const global = await GlobalTsoAllocator.open({ kv });          // one per cluster (the coordinator)
 * const node = new BatchTsoAllocator({ source: global });         // one per streaming node
 * const tt = await node.allocate();                                // (physicalMs << 18) | logical
 * splitTs(tt); // { physicalMs, logical }
 * ```
 */
export {
  LOGICAL_BITS,
  LOGICAL_PER_MS,
  MAX_PHYSICAL_MS,
  composeTs,
  splitTs,
  physicalMsOf,
  compareTs,
  tsAtMs,
  formatTs,
} from './hybrid-ts.js';
export { GlobalTsoAllocator } from './global-allocator.js';
export { BatchTsoAllocator } from './batch-allocator.js';
export { wallClockTsoSource } from './wall-clock-source.js';
export { TsoError, TsoErrorCode } from './errors.js';

export type { TsParts } from './hybrid-ts.js';
export type { TsoSource, TsoKv, GlobalTsoAllocatorOptions } from './global-allocator.js';
export type { BatchTsoAllocatorOptions } from './batch-allocator.js';
