import { MemoryLog } from './memory-log.js';
import type { MemoryLogStats } from './memory-log.js';

// Module-private so the logs are reachable only through this package's own functions, without
// putting internals on the public class.
const LOGS = new WeakMap<MemoryLogStore, Map<string, MemoryLog>>();

/**
 * The memory backend's "storage system": every pchannel's log, with its records and writer fence.
 *
 * An opener uses a private store unless its configuration names one. Share one store between openers
 * to model several nodes on one storage — a pchannel reopened under a new term through another opener
 * sees the earlier terms' records, and a new writer fences the old one across openers — exactly what
 * the conformance suite does. The store lives as long as someone references it.
 */
export class MemoryLogStore {
  constructor() {
    LOGS.set(this, new Map());
  }

  /** The pchannels that have a log, sorted. */
  get pchannels(): readonly string[] {
    return [...logsOf(this).keys()].sort();
  }

  /** Facts about `pchannel`'s log, or undefined when it was never opened. */
  stats(pchannel: string): MemoryLogStats | undefined {
    return logsOf(this).get(pchannel)?.stats;
  }
}

/** The log of `pchannel` in `store`, created on first use. Package-internal. */
export function logOf(store: MemoryLogStore, pchannel: string): MemoryLog {
  const logs = logsOf(store);
  let log = logs.get(pchannel);
  if (log === undefined) {
    log = new MemoryLog(pchannel);
    logs.set(pchannel, log);
  }
  return log;
}

function logsOf(store: MemoryLogStore): Map<string, MemoryLog> {
  const logs = LOGS.get(store);
  // Unreachable through the config schema, which accepts only instances of this class.
  if (logs === undefined) throw new TypeError('not a MemoryLogStore of this copy of @streamsvc/wal-memory');
  return logs;
}
