import { CloseOnce } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import { allocateServerId, NodeSession } from '@streamsvc/coordinator';
import type { ClusterKeys } from '@streamsvc/coordinator';
import type { MetaKv } from '@streamsvc/metastore';
import type { WalManager } from '@streamsvc/node';

export interface MembershipOptions {
  readonly kv: MetaKv;
  readonly keys: ClusterKeys;
  /** The gRPC address clients and the coordinator reach this node on. */
  readonly address: string;
  readonly sessionTtlMs: number;
  readonly manager: WalManager;
  readonly version: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * This node's membership in the cluster: a session under a fresh server id. When the session is lost
 * (the node was paused or cut off longer than the TTL) the coordinator has moved its pchannels away,
 * so the node closes every WAL it still holds — their backends fence it anyway — and joins again as a
 * new node. A graceful stop drains first: the session says `draining`, the coordinator moves every
 * pchannel to other nodes (each closed here first, so in-flight appends finish), then the node leaves.
 */
export class Membership implements AsyncDisposable {
  readonly #o: MembershipOptions;
  readonly #closer = new CloseOnce();
  #session: NodeSession;
  #rejoining: Promise<void> | undefined;
  #draining = false;

  private constructor(options: MembershipOptions, session: NodeSession) {
    this.#o = options;
    this.#session = session;
    this.#watch(session);
  }

  static async join(options: MembershipOptions): Promise<Membership> {
    return new Membership(options, await Membership.#register(options));
  }

  /** The node as the coordinator knows it now (the server id changes when the node rejoins). */
  get serverId(): bigint {
    return this.#session.info.serverId;
  }

  /** False while the session is lost and the node has not joined again. */
  get joined(): boolean {
    return !this.#session.isLost;
  }

  /** True once {@link drain} was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Asks the coordinator to move every pchannel away and waits until this node holds none, or
   * `timeoutMs` passed (then the rest is closed by the caller's shutdown and fenced by the new owner).
   */
  async drain(timeoutMs: number): Promise<void> {
    const log = this.#o.logger.child({ component: 'membership' });
    this.#draining = true;
    try {
      await this.#session.drain();
    } catch (e) {
      log.warn({ err: e }, 'could not mark the session draining; leaving without a handover');
      return;
    }
    log.info('draining: waiting for the coordinator to move every pchannel away');
    const deadline = this.#o.clock.nowMs() + timeoutMs;
    while (this.#o.manager.status().length > 0 && this.#o.clock.nowMs() < deadline) {
      await this.#o.clock.sleep(50);
    }
    const left = this.#o.manager.status().length;
    if (left > 0) log.warn({ pchannels: left }, 'drain timed out');
    else log.info('drained');
  }

  /** Leaves the cluster (the session key goes at once). Idempotent. */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      await this.#rejoining;
      await this.#session.close().catch(() => {});
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  static async #register(o: MembershipOptions): Promise<NodeSession> {
    const serverId = await allocateServerId(o.kv, o.keys);
    const session = await NodeSession.register(o.kv, {
      keys: o.keys,
      serverId,
      address: o.address,
      ttlMs: o.sessionTtlMs,
      version: o.version,
    });
    o.logger.info({ serverId: String(serverId), address: o.address }, 'joined the cluster');
    return session;
  }

  #watch(session: NodeSession): void {
    void session.lost.then(() => {
      if (this.#closer.started || session !== this.#session) return;
      this.#rejoining = this.#rejoin();
    });
  }

  async #rejoin(): Promise<void> {
    const log = this.#o.logger.child({ component: 'membership' });
    log.warn({ serverId: String(this.serverId) }, 'session lost: closing every wal and joining again');
    await Promise.allSettled(this.#o.manager.status().map((w) => this.#o.manager.remove(w.pchannel, w.term)));
    for (let delay = 100; !this.#closer.started; delay = Math.min(delay * 2, 5_000)) {
      try {
        this.#session = await Membership.#register(this.#o);
        this.#watch(this.#session);
        return;
      } catch (e) {
        log.warn({ err: e, retryInMs: delay }, 'could not join again');
        await this.#o.clock.sleep(delay);
      }
    }
  }
}
