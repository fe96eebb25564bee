import { EventEmitter } from 'node:events';

import { noopLogger } from '@streamsvc/common';

import { KeySpace } from './etcd-codec.js';
import type { WireKeyValue } from './etcd-codec.js';
import type { EtcdWatcherLike, WireWatchResponse } from './etcd-watch.js';
import { etcdWatchIterator } from './etcd-watch.js';
import { MetaKvError } from './errors.js';

/** Behaves like etcd3's Watcher: its own listeners set start_revision to header + 1 first. */
class FakeWatcher extends EventEmitter implements EtcdWatcherLike {
  readonly request: { start_revision?: string | number | null } = {};
  cancels = 0;

  constructor(start?: bigint) {
    super();
    if (start !== undefined) this.request.start_revision = String(start);
    const follow = (res: WireWatchResponse): void => {
      this.request.start_revision = String(BigInt(res.header.revision) + 1n);
    };
    this.on('connected', follow);
    this.on('data', follow);
  }

  async cancel(): Promise<void> {
    this.cancels++;
  }
}

const space = new KeySpace('ns/');
const kv = (key: string, rev: number): WireKeyValue => ({
  key: Buffer.from(`ns/${key}`),
  value: Buffer.from('v'),
  create_revision: String(rev),
  mod_revision: String(rev),
  version: '1',
  lease: '0',
});
const response = (header: number, ...events: [string, string, number][]): WireWatchResponse => ({
  header: { revision: String(header) },
  events: events.map(([type, key, rev]) => ({ type, kv: kv(key, rev) })),
});

function start(
  watcher: FakeWatcher,
  from: bigint | undefined,
  explain: (e: unknown, next: bigint | undefined) => Promise<unknown> = async (e) => e,
) {
  let finished = 0;
  const queue = etcdWatchIterator(watcher, from, { space, log: noopLogger, explainCancel: explain }, () => finished++);
  return { queue, finished: () => finished };
}

async function keys(queue: AsyncIterator<{ kv: { key: string; modRevision: bigint } }>, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await queue.next();
    if (r.done) break;
    out.push(`${r.value.kv.key}@${r.value.kv.modRevision}`);
  }
  return out;
}

describe('etcdWatchIterator', () => {
  it('resumes a replaying watch from its first undelivered revision, not from the created header', async () => {
    const w = new FakeWatcher(5n);
    const { queue } = start(w, 5n);
    w.emit('connected', response(100));
    expect(w.request.start_revision).toBe('5'); // etcd3 alone would resume at 101 and skip 5..100
    w.emit('data', response(100, ['Put', 'a', 5], ['Put', 'b', 6]));
    expect(w.request.start_revision).toBe('7');
    w.emit('disconnected', new Error('etcd restarted'));
    w.emit('connected', response(120));
    expect(w.request.start_revision).toBe('7');
    // After the reconnect etcd replays from 7, and possibly repeats what was already delivered.
    w.emit('data', response(120, ['Put', 'b', 6], ['Put', 'c', 7], ['Delete', 'a', 8]));
    expect(await keys(queue, 4)).toEqual(['a@5', 'b@6', 'c@7', 'a@8']);
    expect(w.request.start_revision).toBe('9');
  });

  it('starts a watch without a start revision right after the created header', async () => {
    const w = new FakeWatcher();
    const { queue } = start(w, undefined);
    w.emit('connected', response(40));
    expect(w.request.start_revision).toBe('41');
    w.emit('data', response(41, ['Put', 'x', 41]));
    expect(await keys(queue, 1)).toEqual(['x@41']);
  });

  it('delivers every event of a revision that arrives in one response', async () => {
    const w = new FakeWatcher(10n);
    const { queue } = start(w, 10n);
    w.emit('data', response(10, ['Delete', 'a', 10], ['Delete', 'b', 10], ['Put', 'c', 10]));
    const events = [];
    for (let i = 0; i < 3; i++) events.push((await queue.next()).value);
    expect(events.map((e) => `${e?.type} ${e?.kv.key}`)).toEqual(['delete a', 'delete b', 'put c']);
    expect(events[0]?.kv).toMatchObject({
      value: new Uint8Array(0),
      version: 0n,
      createRevision: 0n,
      modRevision: 10n,
    });
  });

  it('moves the resume point on a progress notification', () => {
    const w = new FakeWatcher(3n);
    start(w, 3n);
    w.emit('data', response(50));
    expect(w.request.start_revision).toBe('51');
  });

  it('fails with the explained error when etcd cancels the watch, without cancelling it again', async () => {
    const w = new FakeWatcher(2n);
    const compacted = new MetaKvError('COMPACTED', 'watch: revision 2 is compacted');
    let asked: bigint | undefined;
    const { queue, finished } = start(w, 2n, async (_e, next) => {
      asked = next;
      return compacted;
    });
    w.emit('error', new Error('Watcher canceled: '));
    await expect(queue.next()).rejects.toBe(compacted);
    expect(asked).toBe(2n);
    expect(finished()).toBe(1);
    expect(w.cancels).toBe(0);
  });

  it('cancels the watcher once when the consumer stops', async () => {
    const w = new FakeWatcher(1n);
    const { queue, finished } = start(w, 1n);
    await queue.return();
    queue.stop();
    expect(w.cancels).toBe(1);
    expect(finished()).toBe(1);
  });
});
