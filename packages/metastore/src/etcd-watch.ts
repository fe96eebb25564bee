/**
 * The etcd adapter's watch: an async iterator over an etcd3 `Watcher`, with exact resume across
 * reconnects.
 *
 * etcd3 re-creates a watch after a reconnect from `request.start_revision`, which it sets to the
 * last response header's revision + 1. That header is not always safe to resume from: a watch created
 * at an old `startRevision` gets a "created" response whose header is the *current* revision before
 * any history was sent, and a catching-up watch gets batches whose header is ahead of their last event.
 * A reconnect then would skip events. So this module tracks `next` — the revision of the first event
 * not yet delivered — itself, pins `start_revision` to it after every response, and drops anything
 * older that arrives again. The only header it trusts is that of a progress notification (etcd sends
 * those only to watchers that have caught up) and of the "created" response of a watch with no start.
 */
import type { Logger } from '@streamsvc/common';

import { AsyncQueue } from './async-queue.js';
import type { KeySpace, WireKeyValue } from './etcd-codec.js';
import { fromWireKv } from './etcd-codec.js';
import type { WatchEvent } from './meta-kv.js';

/** etcd's WatchResponse as etcd3 decodes it. */
export interface WireWatchResponse {
  readonly header: { readonly revision: string };
  readonly created?: boolean;
  readonly events: readonly { readonly type: string; readonly kv: WireKeyValue }[];
}

/** The part of etcd3's `Watcher` the iterator uses. */
export interface EtcdWatcherLike {
  readonly request: { start_revision?: string | number | null };
  on(event: 'connected', fn: (res: WireWatchResponse) => void): unknown;
  on(event: 'data', fn: (res: WireWatchResponse) => void): unknown;
  on(event: 'disconnected', fn: (err: unknown) => void): unknown;
  on(event: 'error', fn: (err: unknown) => void): unknown;
  cancel(): Promise<void>;
}

/** What the iterator needs from the adapter. */
export interface EtcdWatchDeps {
  readonly space: KeySpace;
  readonly log: Logger;
  /**
   * Turns a watch cancellation into the port's error. etcd cancels a compacted watch without a reason
   * the client can see, so this asks etcd whether `nextRevision` is compacted.
   */
  readonly explainCancel: (err: unknown, nextRevision: bigint | undefined) => Promise<unknown>;
}

/**
 * Wraps `watcher` (already attached, created with `fromRevision` as its start revision when given).
 * `onFinish` runs once when the iterator ends for any reason.
 */
export function etcdWatchIterator(
  watcher: EtcdWatcherLike,
  fromRevision: bigint | undefined,
  deps: EtcdWatchDeps,
  onFinish: () => void,
): AsyncQueue<WatchEvent> {
  let next = fromRevision;
  // After an 'error' etcd3 has already dropped the watcher; cancelling it again would send a cancel
  // whose answer etcd3 cannot match to a watcher, which it throws from a stream callback (a crash).
  let cancelledByEtcd = false;
  const pin = (): void => {
    if (next !== undefined) watcher.request.start_revision = String(next);
  };
  const queue = new AsyncQueue<WatchEvent>(() => {
    onFinish();
    if (!cancelledByEtcd) watcher.cancel().catch((e: unknown) => deps.log.debug({ err: e }, 'watch cancel failed'));
  });
  watcher.on('connected', (res) => {
    // With no start revision etcd watches from header + 1 on: that is where delivery starts.
    next ??= BigInt(res.header.revision) + 1n;
    pin();
  });
  watcher.on('data', (res) => {
    if (res.events.length === 0) {
      // A progress notification: every change up to the header has been delivered.
      const progressed = BigInt(res.header.revision) + 1n;
      if (next === undefined || progressed > next) next = progressed;
    }
    const floor = next;
    for (const event of res.events) {
      const revision = BigInt(event.kv.mod_revision);
      if (floor !== undefined && revision < floor) continue; // replayed again after a reconnect
      queue.push(toEvent(deps.space, event.type, event.kv));
      // A revision's events always arrive in one response, so the next one to expect is the one after.
      next = revision + 1n;
    }
    pin();
  });
  watcher.on('disconnected', (err) => {
    deps.log.debug(
      { err, next: next === undefined ? undefined : String(next) },
      'watch disconnected; etcd3 reconnects',
    );
    pin();
  });
  watcher.on('error', (err) => {
    cancelledByEtcd = true;
    void deps.explainCancel(err, next).then((error) => queue.fail(error));
  });
  return queue;
}

function toEvent(space: KeySpace, type: string, kv: WireKeyValue): WatchEvent {
  const mapped = fromWireKv(space, kv);
  return type.toLowerCase() === 'delete'
    ? { type: 'delete', kv: { ...mapped, value: new Uint8Array(0), createRevision: 0n, version: 0n, lease: undefined } }
    : { type: 'put', kv: mapped };
}
