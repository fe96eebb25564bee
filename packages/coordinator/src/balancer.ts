import { CloseOnce, deferred, noopLogger, systemClock } from '@streamsvc/common';
import type { Clock, Deferred, Logger } from '@streamsvc/common';
import { StreamingError } from '@streamsvc/message';

import type { BalancePolicy, BalanceView } from './balance-policy.js';
import type { NodeManagerPort } from './node-manager-client.js';
import type { NodeSessionInfo } from './node-sessions.js';
import { PChannelState } from './pchannel-meta.js';
import type { NodeRef, PChannelMeta, PChannelMetaStore, VersionedMeta } from './pchannel-meta.js';
import type { Topology, TopologyHub } from './topology.js';

export interface BalancerOptions {
  readonly store: PChannelMetaStore;
  /** Every pchannel of the cluster; those without a stored meta are created UNINITIALIZED. */
  readonly pchannels: readonly string[];
  readonly nodes: NodeManagerPort;
  readonly policy: BalancePolicy;
  /** Where assignments are published (only ASSIGNED pchannels appear in it). */
  readonly hub: TopologyHub;
  /** Longest one assign or remove call may take. Default 30 s. */
  readonly operationTimeoutMs?: number;
  /** How often every node is asked what it holds, to catch a WAL that closed on its own. Default 10 s. */
  readonly checkIntervalMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** A pchannel as the coordinator's status reports it. */
export interface PChannelStatus extends PChannelMeta {
  /** A move of this pchannel is running. */
  readonly moving: boolean;
}

/**
 * Deadline of the calls whose failure the balancer can live with: closing a pchannel on its old owner
 * (the new owner's open fences it anyway) and status checks. A node that hangs costs at most this much.
 */
const BEST_EFFORT_TIMEOUT_MS = 5_000;

/**
 * Keeps every pchannel open on exactly one live node, under a term persisted before that node is told.
 *
 * One loop computes the wanted layout (the policy) from the live nodes and the pchannel metas whenever
 * something changes — nodes join, leave or drain, a client reports a wrong-node answer, a periodic status
 * check finds a WAL closed, an operator moves a pchannel — and starts a move for each pchannel that
 * differs. A move is Milvus's sequence: persist (term+1, ASSIGNING, target) → ask every earlier owner
 * that is still alive to close it (best effort: the new open fences it anyway) → open it on the target
 * → persist ASSIGNED → publish. Moves of different pchannels run concurrently; one pchannel has at
 * most one move at a time. A failed move is retried with backoff by later rounds.
 *
 * Every meta write is guarded by this coordinator's leadership; when a write is refused the balancer
 * stops and `failed` settles, so a deposed coordinator stops acting at once.
 */
export class Balancer {
  readonly #o: BalancerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metas: Map<string, VersionedMeta>;
  #nodes = new Map<bigint, NodeSessionInfo>();
  readonly #moves = new Map<string, { target: bigint; abort: AbortController; done: Promise<void> }>();
  /** Pchannels whose owner was found not to hold them (closed, fenced): reassign even to the same node. */
  readonly #suspect = new Set<string>();
  readonly #failures = new Map<string, { count: number; notBeforeMs: number }>();
  readonly #closer = new CloseOnce();
  readonly #stop = new AbortController();
  readonly #failed: Deferred<StreamingError> = deferred<StreamingError>();
  #wake: Deferred<void> = deferred<void>();
  #nodesKnown = false;
  /** The status check running in the background, if any (never awaited by the loop). */
  #checking: Promise<void> | undefined;
  /** pchannels being marked UNAVAILABLE right now. */
  readonly #marking = new Set<string>();
  #loop: Promise<void> | undefined;

  private constructor(options: BalancerOptions, metas: Map<string, VersionedMeta>) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? noopLogger).child({ component: 'balancer' });
    this.#metas = metas;
  }

  /**
   * Loads the metas (creating missing ones) and starts the loop; it moves nothing until the first
   * {@link updateNodes}, so a coordinator that just took over does not mistake "not yet listed" for "gone".
   * @throws {StreamingError} COORDINATOR_NOT_ACTIVE when leadership was lost meanwhile.
   */
  static async start(options: BalancerOptions): Promise<Balancer> {
    const metas = await options.store.loadAll();
    for (const name of options.pchannels) {
      if (metas.has(name)) continue;
      const meta: PChannelMeta = {
        name,
        term: 0n,
        state: PChannelState.UNINITIALIZED,
        node: undefined,
        history: [],
        assignedAtMs: 0,
      };
      metas.set(name, await options.store.save(meta, 0n));
    }
    const balancer = new Balancer(options, metas);
    balancer.#publish();
    balancer.#loop = balancer.#run();
    return balancer;
  }

  /** Settles with the reason when the balancer stopped on its own (leadership lost). */
  get failed(): Promise<StreamingError> {
    return this.#failed.promise;
  }

  /** The live nodes changed (from the session watch). */
  updateNodes(nodes: readonly NodeSessionInfo[]): void {
    const next = new Map(nodes.map((n) => [n.serverId, n]));
    for (const [p, move] of this.#moves) {
      // A move towards a node that left cannot finish: stop waiting for it.
      if (!next.has(move.target)) move.abort.abort(new StreamingError('ON_SHUTDOWN', `target of ${p} left`));
    }
    this.#nodes = next;
    this.#nodesKnown = true;
    this.trigger();
  }

  /**
   * A client saw the owner of `pchannel` under `term` answer as if it did not own it. Checked with the
   * owner before anything moves, so a confused or stale client cannot make pchannels flap.
   */
  async reportUnavailable(pchannel: string, term: bigint): Promise<void> {
    const vm = this.#metas.get(pchannel);
    if (!vm || vm.meta.term !== term || vm.meta.state !== PChannelState.ASSIGNED || !vm.meta.node) return;
    if (this.#moves.has(pchannel)) return;
    let holds: boolean;
    try {
      const wals = await this.#o.nodes.status(vm.meta.node, { signal: this.#timeout() });
      holds = wals.some((w) => w.pchannel === pchannel && w.term === term && isLive(w.state));
    } catch {
      return; // unreachable: its session decides whether it is gone
    }
    if (!holds && this.#metas.get(pchannel)?.meta.term === term) {
      this.#log.warn({ pchannel, term: String(term) }, 'owner does not hold the pchannel: reassigning');
      this.#suspect.add(pchannel);
      this.trigger();
    }
  }

  /**
   * Moves `pchannel` to node `serverId` now; resolves once it is open there.
   * @throws {StreamingError} INVALID_ARGUMENT for an unknown pchannel or a node that is not live (or is
   *   draining); COORDINATOR_NOT_ACTIVE; what the move's node calls throw.
   */
  async move(pchannel: string, serverId: bigint): Promise<void> {
    const vm = this.#metas.get(pchannel);
    if (!vm) throw new StreamingError('INVALID_ARGUMENT', `no pchannel named ${pchannel}`);
    const node = this.#nodes.get(serverId);
    if (!node || node.draining) {
      throw new StreamingError('INVALID_ARGUMENT', `node ${serverId} is not a live, non-draining streaming node`);
    }
    while (this.#moves.has(pchannel)) await this.#moves.get(pchannel)!.done;
    const current = this.#metas.get(pchannel)!.meta;
    if (current.state === PChannelState.ASSIGNED && current.node?.serverId === serverId) return;
    await this.#startMove(pchannel, node, true);
  }

  /** Asks the loop to run a round soon. */
  trigger(): void {
    this.#wake.resolve();
  }

  /** Every pchannel's meta, and whether it is moving. */
  status(): PChannelStatus[] {
    return [...this.#metas.values()].map((vm) => ({ ...vm.meta, moving: this.#moves.has(vm.meta.name) }));
  }

  /** The live nodes as last seen. */
  get nodes(): readonly NodeSessionInfo[] {
    return [...this.#nodes.values()];
  }

  /** Stops the loop and aborts moves in flight (their persisted state is resumed by the next coordinator). */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      this.#stop.abort(new StreamingError('COORDINATOR_NOT_ACTIVE', 'the balancer stopped'));
      for (const m of this.#moves.values()) m.abort.abort(this.#stop.signal.reason);
      this.trigger();
      await this.#loop;
      await this.#checking;
      await Promise.allSettled([...this.#moves.values()].map((m) => m.done));
    });
  }

  async #run(): Promise<void> {
    let nextCheck = this.#clock.nowMs() + (this.#o.checkIntervalMs ?? 10_000);
    while (!this.#stop.signal.aborted) {
      if (this.#nodesKnown) {
        if (this.#clock.nowMs() >= nextCheck) {
          // In the background: a hung node (paused, partitioned) must not hold up the moves that replace it.
          this.#checking ??= this.#checkNodes().finally(() => {
            this.#checking = undefined;
            this.trigger();
          });
          nextCheck = this.#clock.nowMs() + (this.#o.checkIntervalMs ?? 10_000);
        }
        this.#round();
      }
      this.#wake = deferred<void>();
      const wait = Math.max(1, Math.min(nextCheck, this.#nextRetryMs()) - this.#clock.nowMs());
      // The nap ends when woken: a pending sleep would keep its abort listener on the stop signal.
      const nap = new AbortController();
      const stop = (): void => nap.abort();
      this.#stop.signal.addEventListener('abort', stop, { once: true });
      await Promise.race([this.#wake.promise, this.#clock.sleep(wait, { signal: nap.signal }).catch(() => {})]);
      nap.abort();
      this.#stop.signal.removeEventListener('abort', stop);
    }
  }

  /** One pass: the policy's layout, and a move for every pchannel that is not where it should be. */
  #round(): void {
    const view: BalanceView = {
      pchannels: [...this.#metas.values()].map(({ meta }) => ({ name: meta.name, owner: this.#ownerOf(meta) })),
      nodes: [...this.#nodes.values()].map((n) => ({ serverId: n.serverId, draining: n.draining })),
    };
    const wanted = this.#o.policy.balance(view);
    const now = this.#clock.nowMs();
    for (const { meta } of this.#metas.values()) {
      if (this.#moves.has(meta.name)) continue;
      const target = wanted.get(meta.name);
      const settled =
        meta.state === PChannelState.ASSIGNED && meta.node?.serverId === target && !this.#suspect.has(meta.name);
      if (settled || target === undefined) {
        if (target === undefined && meta.state === PChannelState.ASSIGNED && this.#ownerOf(meta) === undefined) {
          void this.#markUnavailable(meta.name);
        }
        continue;
      }
      const failure = this.#failures.get(meta.name);
      if (failure && failure.notBeforeMs > now) continue;
      void this.#startMove(meta.name, this.#nodes.get(target)!, false).catch(() => {});
    }
  }

  /** The node holding (or opening) `meta`'s pchannel, if it is alive and not suspect. */
  #ownerOf(meta: PChannelMeta): bigint | undefined {
    if (meta.state !== PChannelState.ASSIGNED && meta.state !== PChannelState.ASSIGNING) return undefined;
    if (!meta.node || this.#suspect.has(meta.name)) return undefined;
    const live = this.#nodes.get(meta.node.serverId);
    return live && live.address === meta.node.address ? meta.node.serverId : undefined;
  }

  #startMove(pchannel: string, target: NodeSessionInfo, manual: boolean): Promise<void> {
    const abort = new AbortController();
    const done = this.#doMove(pchannel, target, abort.signal).then(
      () => {
        this.#failures.delete(pchannel);
      },
      (e: unknown) => {
        if (StreamingError.is(e, 'COORDINATOR_NOT_ACTIVE')) this.#fail(e);
        const count = (this.#failures.get(pchannel)?.count ?? 0) + 1;
        const delay = Math.min(10 * 2 ** count, 5_000);
        this.#failures.set(pchannel, { count, notBeforeMs: this.#clock.nowMs() + delay });
        if (!this.#stop.signal.aborted) {
          this.#log.warn(
            { pchannel, target: String(target.serverId), err: e, retryInMs: delay },
            manual ? 'manual move failed' : 'move failed; will retry',
          );
        }
        throw e;
      },
    );
    const entry = { target: target.serverId, abort, done: done.catch(() => {}) };
    this.#moves.set(pchannel, entry);
    void entry.done.then(() => {
      this.#moves.delete(pchannel);
      this.trigger();
    });
    return done;
  }

  async #doMove(pchannel: string, target: NodeRef, signal: AbortSignal): Promise<void> {
    let vm = this.#metas.get(pchannel)!;
    const resuming = vm.meta.state === PChannelState.ASSIGNING && vm.meta.node?.serverId === target.serverId;
    if (!resuming) {
      const history = [...vm.meta.history];
      if (vm.meta.node && vm.meta.term > 0n) history.push({ term: vm.meta.term, node: vm.meta.node });
      vm = await this.#save(
        { ...vm.meta, term: vm.meta.term + 1n, state: PChannelState.ASSIGNING, node: target, history },
        vm.modRevision,
      );
    }
    const term = vm.meta.term;
    this.#suspect.delete(pchannel);
    this.#log.info(
      {
        pchannel,
        term: String(term),
        to: String(target.serverId),
        from: vm.meta.history.map((h) => String(h.node.serverId)),
      },
      'moving pchannel',
    );
    // Close it where it was, so in-flight appends finish there before the new owner opens (and fences).
    await Promise.all(
      vm.meta.history.map(async (h) => {
        if (h.node.serverId === target.serverId || !this.#nodes.has(h.node.serverId)) return;
        const bestEffort = this.#timeout(signal, BEST_EFFORT_TIMEOUT_MS);
        await this.#o.nodes.remove(h.node, pchannel, h.term, { signal: bestEffort }).catch((e: unknown) => {
          if (!StreamingError.is(e, 'IGNORED_OPERATION')) {
            this.#log.warn({ pchannel, node: String(h.node.serverId), err: e }, 'could not close on the old owner');
          }
        });
      }),
    );
    await this.#o.nodes.assign(target, pchannel, term, { signal: this.#timeout(signal) });
    vm = this.#metas.get(pchannel)!;
    await this.#save(
      { ...vm.meta, state: PChannelState.ASSIGNED, history: [], assignedAtMs: this.#clock.nowMs() },
      vm.modRevision,
    );
    this.#log.info({ pchannel, term: String(term), node: String(target.serverId) }, 'pchannel assigned');
  }

  /**
   * Its owner is gone and no live node can take it: UNAVAILABLE (term and last owner kept), out of the
   * topology, so clients wait for it instead of calling a dead node. The next live node gets it.
   */
  async #markUnavailable(pchannel: string): Promise<void> {
    if (this.#marking.has(pchannel)) return;
    this.#marking.add(pchannel);
    try {
      const vm = this.#metas.get(pchannel)!;
      if (vm.meta.state !== PChannelState.ASSIGNED || this.#moves.has(pchannel)) return;
      this.#log.warn({ pchannel, term: String(vm.meta.term) }, 'no live node can take the pchannel: unavailable');
      await this.#save({ ...vm.meta, state: PChannelState.UNAVAILABLE }, vm.modRevision);
    } catch (e) {
      if (StreamingError.is(e, 'COORDINATOR_NOT_ACTIVE')) this.#fail(e);
      else if (!this.#stop.signal.aborted)
        this.#log.warn({ pchannel, err: e }, 'could not mark the pchannel unavailable');
    } finally {
      this.#marking.delete(pchannel);
    }
  }

  async #save(meta: PChannelMeta, previous: bigint): Promise<VersionedMeta> {
    if (this.#stop.signal.aborted) throw this.#stop.signal.reason;
    const vm = await this.#o.store.save(meta, previous);
    this.#metas.set(meta.name, vm);
    this.#publish();
    return vm;
  }

  /** Asks every live node what it holds: an owner that lost its WAL gets it reassigned; strays are closed. */
  async #checkNodes(): Promise<void> {
    await Promise.all(
      [...this.#nodes.values()].map(async (node) => {
        let wals;
        try {
          wals = await this.#o.nodes.status(node, { signal: this.#timeout(undefined, BEST_EFFORT_TIMEOUT_MS) });
        } catch {
          return;
        }
        for (const { meta } of this.#metas.values()) {
          if (meta.state !== PChannelState.ASSIGNED || meta.node?.serverId !== node.serverId) continue;
          if (this.#moves.has(meta.name)) continue;
          if (!wals.some((w) => w.pchannel === meta.name && w.term === meta.term && isLive(w.state))) {
            this.#log.warn({ pchannel: meta.name, node: String(node.serverId) }, 'owner lost its wal: reassigning');
            this.#suspect.add(meta.name);
          }
        }
        for (const w of wals) {
          const meta = this.#metas.get(w.pchannel)?.meta;
          const stray = meta && (w.term < meta.term || meta.node?.serverId !== node.serverId);
          if (stray && !this.#moves.has(w.pchannel)) {
            await this.#o.nodes
              .remove(node, w.pchannel, w.term, { signal: this.#timeout(undefined, BEST_EFFORT_TIMEOUT_MS) })
              .catch(() => {});
          }
        }
      }),
    );
  }

  #publish(): void {
    const byNode = new Map<bigint, { node: NodeRef; pchannels: { name: string; term: bigint }[] }>();
    for (const { meta } of this.#metas.values()) {
      if (meta.state !== PChannelState.ASSIGNED || !meta.node) continue;
      let entry = byNode.get(meta.node.serverId);
      if (!entry) byNode.set(meta.node.serverId, (entry = { node: meta.node, pchannels: [] }));
      entry.pchannels.push({ name: meta.name, term: meta.term });
    }
    const assignments: Topology['assignments'] = [...byNode.values()].map((e) => ({
      node: { serverId: e.node.serverId, address: e.node.address },
      pchannels: e.pchannels,
    }));
    this.#o.hub.publish(assignments, this.#o.pchannels);
  }

  #nextRetryMs(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const f of this.#failures.values()) next = Math.min(next, f.notBeforeMs);
    return next;
  }

  #timeout(signal?: AbortSignal, capMs = Number.POSITIVE_INFINITY): AbortSignal {
    const ms = Math.min(this.#o.operationTimeoutMs ?? 30_000, capMs);
    const signals = [this.#stop.signal, AbortSignal.timeout(ms)];
    if (signal) signals.push(signal);
    return AbortSignal.any(signals);
  }

  #fail(e: StreamingError): void {
    if (this.#stop.signal.aborted) return;
    this.#log.error({ err: e }, 'balancer stopped: leadership lost');
    this.#failed.resolve(e);
    void this.close();
  }
}

function isLive(state: string): boolean {
  return state === 'open' || state === 'opening';
}
