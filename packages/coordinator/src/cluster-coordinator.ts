import { CloseOnce, noopLogger, systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import { StreamingError } from '@streamsvc/message';
import { Election, Session } from '@streamsvc/metastore';
import type { Compare, Leadership, MetaKv } from '@streamsvc/metastore';
import { GlobalTsoAllocator } from '@streamsvc/tso';
import type { TsoSource } from '@streamsvc/tso';

import { evenSpreadPolicy } from './balance-policy.js';
import type { BalancePolicy } from './balance-policy.js';
import { Balancer } from './balancer.js';
import type { NodeManagerPort } from './node-manager-client.js';
import { watchNodes } from './node-sessions.js';
import type { ClusterKeys } from './node-sessions.js';
import { PChannelMetaStore } from './pchannel-meta.js';
import { TopologyHub } from './topology.js';

/** What an extension started by the active coordinator (the broadcaster) gets. */
export interface ActiveContext {
  /** Compare entries that hold only while this coordinator is active: add them to every MetaKV write. */
  readonly guard: () => readonly Compare[];
  readonly tso: TsoSource;
  readonly signal: AbortSignal;
}

export interface ClusterCoordinatorOptions {
  readonly kv: MetaKv;
  readonly keys: ClusterKeys;
  /** Every pchannel of the cluster. */
  readonly pchannels: readonly string[];
  /** Where clients and nodes reach this coordinator; published as the election value. */
  readonly address: string;
  /** The coordinator's own session (and leadership) TTL. Default 10 s. */
  readonly sessionTtlMs?: number;
  readonly nodes: NodeManagerPort;
  readonly policy?: BalancePolicy;
  /** Longest one assign or remove of a pchannel on a node may take. Default 30 s. */
  readonly operationTimeoutMs?: number;
  /** How often the balancer asks every node what it holds. Default 10 s. */
  readonly checkIntervalMs?: number;
  /** Started each time this coordinator becomes active, closed when it stops being active. */
  readonly onActive?: (ctx: ActiveContext) => Promise<{ close(): Promise<void> }>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** The pieces that exist while this coordinator is the active one. */
export interface ActiveCoordinator {
  readonly hub: TopologyHub;
  readonly tso: TsoSource;
  readonly balancer: Balancer;
  readonly leadership: Leadership;
}

/**
 * A cluster coordinator: one of several processes, exactly one of which is active at a time (an
 * election in MetaKV under a session lease). While active it owns the global TSO, the pchannel metas
 * and the balancer, and publishes the topology; every MetaKV write it makes is guarded by its
 * leadership key, so when it loses leadership (its lease expired, e.g. it was paused) nothing it still
 * tries to write lands. A standby answers COORDINATOR_NOT_ACTIVE and waits its turn; when leadership
 * is lost the coordinator steps down (discovery streams end, clients move to the next endpoint) and
 * campaigns again with a fresh session.
 */
export class ClusterCoordinator implements AsyncDisposable {
  readonly #o: ClusterCoordinatorOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #stop = new AbortController();
  readonly #closer = new CloseOnce();
  readonly #activeWaiters: (() => void)[] = [];
  #active: ActiveCoordinator | undefined;
  #loop: Promise<void> | undefined;
  #session: Session | undefined;
  #terms = 0;

  private constructor(options: ClusterCoordinatorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? noopLogger).child({ component: 'cluster-coordinator', address: options.address });
  }

  /** Starts campaigning in the background; resolves at once (the coordinator is a standby until elected). */
  static start(options: ClusterCoordinatorOptions): ClusterCoordinator {
    const c = new ClusterCoordinator(options);
    c.#loop = c.#run();
    return c;
  }

  /** The active pieces, or undefined while this coordinator is a standby. */
  get active(): ActiveCoordinator | undefined {
    return this.#active;
  }

  /** How many times this process became active (tests, metrics). */
  get activations(): number {
    return this.#terms;
  }

  /** Resolves when this coordinator is active. Abort: rejects with the reason. */
  async whenActive(signal?: AbortSignal): Promise<ActiveCoordinator> {
    while (!this.#active) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        this.#activeWaiters.push(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    return this.#active;
  }

  /**
   * The active pieces, or COORDINATOR_NOT_ACTIVE naming the active coordinator when known.
   * @throws {StreamingError} COORDINATOR_NOT_ACTIVE.
   */
  requireActive(): ActiveCoordinator {
    if (this.#active && !this.#active.leadership.isLost) return this.#active;
    throw new StreamingError(
      'COORDINATOR_NOT_ACTIVE',
      `coordinator ${this.#o.address} is a standby; ask another coordinator endpoint`,
    );
  }

  /** Steps down (resigning, so a standby takes over at once) and stops. Idempotent. */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      this.#stop.abort();
      const leadership = this.#active?.leadership;
      await leadership?.resign().catch(() => {});
      await this.#loop;
      await this.#session?.close().catch(() => {});
      this.#log.info('coordinator stopped');
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run(): Promise<void> {
    const ttlMs = this.#o.sessionTtlMs ?? 10_000;
    while (!this.#stop.signal.aborted) {
      try {
        if (!this.#session || this.#session.isLost) {
          this.#session = await Session.register(this.#o.kv, {
            key: `${this.#o.keys.coord}members/${encodeURIComponent(this.#o.address)}`,
            value: this.#o.address,
            ttlMs,
            signal: this.#stop.signal,
          });
        }
        const election = new Election(this.#o.kv, {
          prefix: this.#o.keys.election,
          lease: this.#session.lease,
          logger: this.#o.logger,
        });
        const leadership = await election.campaign(this.#o.address, { signal: this.#stop.signal });
        await this.#serve(leadership);
      } catch (e) {
        if (this.#stop.signal.aborted) break;
        this.#log.warn({ err: e }, 'campaign failed; retrying');
        await this.#clock.sleep(Math.min(1000, ttlMs / 4), { signal: this.#stop.signal }).catch(() => {});
      }
    }
  }

  /** Acts as the active coordinator until leadership is lost or the coordinator closes. */
  async #serve(leadership: Leadership): Promise<void> {
    const o = this.#o;
    const guard = (): readonly Compare[] => [
      { key: leadership.key, target: 'createRevision', op: '==', value: leadership.createRevision },
    ];
    const stepDown = new AbortController();
    const stop = (): void => stepDown.abort();
    this.#stop.signal.addEventListener('abort', stop, { once: true });
    void leadership.lost.then(stop);
    const cleanup: (() => Promise<void>)[] = [];
    try {
      const incarnation = await bumpGuarded(o.kv, `${o.keys.coord}counters/incarnation`, guard);
      const tso = await GlobalTsoAllocator.open({ kv: o.kv, key: o.keys.tso, clock: o.clock, logger: o.logger });
      cleanup.push(() => tso.close());
      // Timestamps only while leadership holds: a paused ex-leader must not hand out its old window.
      const guardedTso: TsoSource = {
        allocate: (count, options) => {
          if (leadership.isLost) {
            return Promise.reject(new StreamingError('COORDINATOR_NOT_ACTIVE', 'this coordinator lost leadership'));
          }
          return tso.allocate(count, options);
        },
      };
      const hub = new TopologyHub(incarnation, o.pchannels);
      cleanup.push(async () => hub.close());
      const balancer = await Balancer.start({
        store: new PChannelMetaStore(o.kv, o.keys.coord, guard),
        pchannels: o.pchannels,
        nodes: o.nodes,
        policy: o.policy ?? evenSpreadPolicy,
        hub,
        operationTimeoutMs: o.operationTimeoutMs,
        checkIntervalMs: o.checkIntervalMs,
        clock: o.clock,
        logger: o.logger,
      });
      cleanup.push(() => balancer.close());
      void balancer.failed.then(stop);
      const watching = this.#watchNodes(balancer, stepDown.signal);
      cleanup.push(() => watching);
      if (o.onActive) {
        const extension = await o.onActive({ guard, tso: guardedTso, signal: stepDown.signal });
        cleanup.push(() => extension.close());
      }
      this.#active = { hub, tso: guardedTso, balancer, leadership };
      this.#terms++;
      this.#log.info({ incarnation: String(incarnation) }, 'active coordinator');
      for (const wake of this.#activeWaiters.splice(0)) wake();
      await new Promise<void>((resolve) => {
        if (stepDown.signal.aborted) resolve();
        stepDown.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      this.#active = undefined;
      stop();
      this.#stop.signal.removeEventListener('abort', stop);
      for (const step of cleanup.reverse()) {
        await step().catch((e: unknown) => this.#log.warn({ err: e }, 'step-down step failed'));
      }
      if (!this.#stop.signal.aborted) {
        this.#log.warn({ reason: leadership.isLost ? 'leadership lost' : 'balancer stopped' }, 'stepped down');
        await leadership.resign().catch(() => {});
      }
    }
  }

  /** Feeds the live nodes to the balancer, restarting the watch if it fails (e.g. history compacted). */
  async #watchNodes(balancer: Balancer, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const nodes of watchNodes(this.#o.kv, this.#o.keys, { signal })) balancer.updateNodes(nodes);
      } catch (e) {
        if (signal.aborted) return;
        this.#log.warn({ err: e }, 'node watch failed; restarting');
        await this.#clock.sleep(200, { signal }).catch(() => {});
      }
    }
  }
}

/** Increments a counter in MetaKV under `guard`. @throws {StreamingError} COORDINATOR_NOT_ACTIVE. */
async function bumpGuarded(kv: MetaKv, key: string, guard: () => readonly Compare[]): Promise<bigint> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const current = await kv.get(key);
    const next = (current ? BigInt(new TextDecoder().decode(current.value)) : 0n) + 1n;
    const r = await kv.txn({
      compare: [...guard(), { key, target: 'modRevision', op: '==', value: current?.modRevision ?? 0n }],
      success: [{ type: 'put', key, value: String(next) }],
    });
    if (r.succeeded) return next;
    const check = await kv.txn({ compare: guard(), success: [] });
    if (!check.succeeded) throw new StreamingError('COORDINATOR_NOT_ACTIVE', 'leadership lost while starting');
  }
  throw new StreamingError('INNER', `could not bump ${key}: too much contention`);
}
