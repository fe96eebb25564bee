import type { Clock, Logger } from '@streamsvc/common';
import type { AppendResult } from '@streamsvc/proto';

import type { BroadcastRequests } from './broadcast-requests.js';
import type { BroadcastTask, BroadcastTaskStore } from './broadcast-task-store.js';

/** What {@link KeptBroadcasts} works with: the broadcaster's store, request table, clock and stop signal. */
export interface KeptBroadcastsOptions {
  readonly store: BroadcastTaskStore;
  readonly requests: BroadcastRequests;
  readonly clock: Clock;
  readonly log: Logger;
  readonly stop: AbortSignal;
}

/**
 * The finished broadcast tasks a broadcaster keeps in MetaKV so that retries of their requests still
 * get their outcome after a takeover: loaded into the request table at start, and deleted once no retry
 * can match them (older than the dedup window, or past its count).
 */
export class KeptBroadcasts {
  readonly #o: KeptBroadcastsOptions;
  /** Oldest first. */
  readonly #kept: { readonly broadcastId: bigint; readonly finishedAtMs: number }[] = [];
  /** The deletions of expired tasks, one after the other. */
  #sweeping: Promise<void> = Promise.resolve();

  constructor(options: KeptBroadcastsOptions) {
    this.#o = options;
  }

  /**
   * Takes the finished tasks loaded at start: those within the window answer retries of their
   * requests from now on; the rest are deleted.
   */
  load(finished: readonly BroadcastTask[]): void {
    const oldestKept = this.#o.clock.nowMs() - this.#o.requests.windowMs;
    const byAge = [...finished].sort((a, b) => a.finishedAtMs! - b.finishedAtMs!);
    for (const task of byAge) {
      const finishedAtMs = task.finishedAtMs!;
      this.#kept.push({ broadcastId: task.broadcastId, finishedAtMs });
      if (task.request === undefined || finishedAtMs <= oldestKept) continue;
      const results = new Map<string, AppendResult>();
      for (const [vchannel, r] of task.results) if (r !== undefined) results.set(vchannel, r);
      this.#o.requests.remember(task.request, { broadcastId: task.broadcastId, results }, finishedAtMs);
    }
    this.sweep();
  }

  /** A task this broadcaster just marked finished. */
  add(broadcastId: bigint, finishedAtMs: number): void {
    this.#kept.push({ broadcastId, finishedAtMs });
  }

  /**
   * Deletes the kept tasks that no retry can match any more. Best effort, in the background: one that
   * stays is deleted by a later sweep or by the next active coordinator.
   */
  sweep(): void {
    const oldest = this.#o.clock.nowMs() - this.#o.requests.windowMs;
    const expired: bigint[] = [];
    while (this.#kept.length > 0) {
      const head = this.#kept[0]!;
      if (this.#kept.length <= this.#o.requests.maxFinished && head.finishedAtMs > oldest) break;
      this.#kept.shift();
      expired.push(head.broadcastId);
    }
    if (expired.length === 0 || this.#o.stop.aborted) return;
    this.#sweeping = this.#sweeping
      .then(async () => {
        for (const id of expired) await this.#o.store.delete(id, { signal: this.#o.stop });
      })
      .catch((e: unknown) => this.#o.log.warn({ err: e }, 'could not delete expired finished broadcast tasks'));
  }

  /** Settles once the deletions under way are done (never rejects). */
  settled(): Promise<void> {
    return this.#sweeping;
  }
}
