/**
 * Orders a `latest` read before the produce requests that start after it, within one process.
 *
 * A `latest` read fixes its position with a ListOffsets request; the appends a caller makes right after
 * `read()` returns go out on the producer's connection. A broker may serve the second connection first
 * (the librdkafka mock does when both requests are waiting: it polls connections in a fixed order), and
 * the reader would then start after records appended after it. Kafka cannot order requests on two
 * connections, so across processes that window stays (see the README); within a process, produce
 * requests for a topic wait here while a `latest` lookup of that topic is in flight — a few hundred
 * microseconds, and only while someone opens a `latest` read.
 *
 * Process-wide on purpose: the reader and the writer of a pchannel may belong to different openers
 * (a read-only WAL next to the read-write one), and only the process is common to both.
 */
const pending = new Map<string, Set<Promise<unknown>>>();

/** Runs `lookup` (the `latest` position query of `key`) with produce requests of `key` held back. */
export async function latestLookup<T>(key: string, lookup: () => Promise<T>): Promise<T> {
  const running = lookup();
  let set = pending.get(key);
  if (set === undefined) pending.set(key, (set = new Set()));
  set.add(running);
  try {
    return await running;
  } finally {
    set.delete(running);
    if (set.size === 0 && pending.get(key) === set) pending.delete(key);
  }
}

/** Resolves once no `latest` lookup of `key` is in flight (at once, synchronously cheap, when none is). */
export async function beforeProduce(key: string): Promise<void> {
  // Bounded: each turn waits for the lookups of one moment; a lookup started later began after this
  // produce was issued and need not be waited for, so at most one turn is taken.
  const set = pending.get(key);
  if (set === undefined) return;
  await Promise.allSettled([...set]);
}

/** The key of a topic on a cluster: the same topic name on two clusters is two logs. */
export function topicKey(brokers: readonly string[], topic: string): string {
  return `${[...brokers].sort().join(',')}/${topic}`;
}
