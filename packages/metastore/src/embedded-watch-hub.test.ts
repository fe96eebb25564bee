import { AsyncQueue } from './async-queue.js';
import type { StoredEvent } from './embedded-records.js';
import { WatchHub, toWatchEvent } from './embedded-watch-hub.js';
import type { WatchEvent } from './meta-kv.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const put = (key: string, rev: bigint): StoredEvent => ({
  type: 'put',
  key: bytes(key),
  kv: { value: bytes('v'), createRevision: rev, modRevision: rev, version: 1n, lease: 0n },
  prev: undefined,
});

/** Everything buffered in `queue`, as `type key@revision`. */
async function drain(queue: AsyncQueue<WatchEvent>): Promise<string[]> {
  const out: string[] = [];
  for (let left = queue.size; left > 0; left--) {
    const r = await queue.next();
    if (!r.done) out.push(`${r.value.type} ${r.value.kv.key}@${r.value.kv.modRevision}`);
  }
  return out;
}

describe('WatchHub', () => {
  it('delivers revisions in order even when they are published out of order', async () => {
    const hub = new WatchHub(10n);
    const queue = new AsyncQueue<WatchEvent>();
    hub.subscribe({ key: bytes(''), prefix: true, fromRevision: 11n, queue });
    hub.publish(12n, [put('b', 12n)]);
    hub.publish(13n, [put('c', 13n)]);
    expect(queue.size).toBe(0);
    expect(hub.publishedRevision).toBe(10n);
    hub.publish(11n, [put('a', 11n)]);
    expect(hub.publishedRevision).toBe(13n);
    expect(await drain(queue)).toEqual(['put a@11', 'put b@12', 'put c@13']);
  });

  it('filters by key or prefix and skips revisions below the subscriber start', async () => {
    const hub = new WatchHub(0n);
    const exact = new AsyncQueue<WatchEvent>();
    const prefix = new AsyncQueue<WatchEvent>();
    hub.subscribe({ key: bytes('a'), prefix: false, fromRevision: 1n, queue: exact });
    hub.subscribe({ key: bytes('a'), prefix: true, fromRevision: 2n, queue: prefix });
    hub.publish(1n, [put('a', 1n), put('ab', 1n)]);
    hub.publish(2n, [put('a', 2n), put('b', 2n), put('ab', 2n)]);
    expect(await drain(exact)).toEqual(['put a@1', 'put a@2']);
    expect(await drain(prefix)).toEqual(['put a@2', 'put ab@2']);
  });

  it('ignores a revision published twice and ends every subscriber on closeAll', async () => {
    const hub = new WatchHub(0n);
    const queue = new AsyncQueue<WatchEvent>();
    const unsubscribe = hub.subscribe({ key: bytes('a'), prefix: false, fromRevision: 1n, queue });
    hub.publish(1n, [put('a', 1n)]);
    hub.publish(1n, [put('a', 1n)]);
    expect(queue.size).toBe(1);
    hub.closeAll();
    expect(hub.size).toBe(0);
    await queue.next();
    await expect(queue.next()).resolves.toEqual({ value: undefined, done: true });
    unsubscribe();
  });

  it('shows a delete as the key with an empty value, zero version and the delete revision', () => {
    const event = toWatchEvent(7n, { type: 'delete', key: bytes('k'), kv: undefined, prev: put('k', 3n).kv });
    expect(event).toEqual({
      type: 'delete',
      kv: { key: 'k', value: new Uint8Array(0), createRevision: 0n, modRevision: 7n, version: 0n, lease: undefined },
    });
  });
});
