import type { MetaKv } from '@streamsvc/metastore';

/**
 * The term of each pchannel, persisted in MetaKV. A term is bumped (compare-and-swap) before any node
 * is told to open the pchannel under it, so two nodes can never both write a pchannel under the
 * current term: whoever was told an older term is fenced by the newer open.
 */
export class PChannelTerms {
  readonly #kv: MetaKv;
  readonly #prefix: string;

  constructor(kv: MetaKv, prefix = 'coordinator/') {
    this.#kv = kv;
    this.#prefix = prefix;
  }

  /** The current term of `pchannel` (0 when never assigned). */
  async get(pchannel: string): Promise<bigint> {
    const kv = await this.#kv.get(this.#key(pchannel));
    return kv ? BigInt(new TextDecoder().decode(kv.value)) : 0n;
  }

  /** Persists term + 1 and returns it. Concurrent bumps serialise through the CAS. */
  bump(pchannel: string): Promise<bigint> {
    return this.#bumpKey(this.#key(pchannel));
  }

  /** Bumps a counter that is not a pchannel (the coordinator's incarnation, for topology versions). */
  bumpCounter(name: string): Promise<bigint> {
    return this.#bumpKey(`${this.#prefix}counters/${name}`);
  }

  async #bumpKey(key: string): Promise<bigint> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const current = await this.#kv.get(key);
      const next = (current ? BigInt(new TextDecoder().decode(current.value)) : 0n) + 1n;
      const result = await this.#kv.txn({
        compare: [{ key, target: 'modRevision', op: '==', value: current?.modRevision ?? 0n }],
        success: [{ type: 'put', key, value: String(next) }],
      });
      if (result.succeeded) return next;
    }
    throw new Error(`[coordinator] could not bump ${key}: too much contention`);
  }

  #key(pchannel: string): string {
    return `${this.#prefix}pchannels/${pchannel}/term`;
  }
}
