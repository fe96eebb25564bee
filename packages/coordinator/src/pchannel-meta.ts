import { StreamingError } from '@streamsvc/message';
import type { MetaKv, Compare } from '@streamsvc/metastore';
import { listAll } from '@streamsvc/metastore';

/**
 * Where a pchannel is in its assignment (Milvus `PChannelMetaState`):
 * - `UNINITIALIZED`: created, never assigned (term 0);
 * - `ASSIGNING`: a new term and target node are persisted; the node may not have opened it yet;
 * - `ASSIGNED`: the node confirmed the WAL is open under the term — the only state clients see;
 * - `UNAVAILABLE`: its owner is gone or said it does not hold it; it will be reassigned.
 */
export const PChannelState = {
  UNINITIALIZED: 'UNINITIALIZED',
  ASSIGNING: 'ASSIGNING',
  ASSIGNED: 'ASSIGNED',
  UNAVAILABLE: 'UNAVAILABLE',
} as const;
export type PChannelState = (typeof PChannelState)[keyof typeof PChannelState];

/** A streaming node as the coordinator names it. */
export interface NodeRef {
  readonly serverId: bigint;
  readonly address: string;
}

/** One pchannel's assignment, persisted in MetaKV. */
export interface PChannelMeta {
  readonly name: string;
  /** Bumped (and persisted) before any node is told to open the pchannel under it. 0 = never assigned. */
  readonly term: bigint;
  readonly state: PChannelState;
  /** The owner (ASSIGNED), the target (ASSIGNING) or the last owner (UNAVAILABLE). */
  readonly node: NodeRef | undefined;
  /** Earlier owners that may still hold the pchannel open: each is asked to close it before the new one opens. */
  readonly history: readonly { readonly term: bigint; readonly node: NodeRef }[];
  /** When the current assignment was confirmed (ms since the epoch; 0 when never). */
  readonly assignedAtMs: number;
}

interface StoredMeta {
  name: string;
  term: string;
  state: PChannelState;
  node?: { serverId: string; address: string };
  history: { term: string; node: { serverId: string; address: string } }[];
  assignedAtMs: number;
}

const encodeNode = (n: NodeRef): { serverId: string; address: string } => ({
  serverId: String(n.serverId),
  address: n.address,
});
const decodeNode = (n: { serverId: string; address: string }): NodeRef => ({
  serverId: BigInt(n.serverId),
  address: n.address,
});

/** JSON, so an operator can read it with `etcdctl get`; bigints as decimal strings. */
export function encodePChannelMeta(m: PChannelMeta): string {
  const stored: StoredMeta = {
    name: m.name,
    term: String(m.term),
    state: m.state,
    ...(m.node ? { node: encodeNode(m.node) } : {}),
    history: m.history.map((h) => ({ term: String(h.term), node: encodeNode(h.node) })),
    assignedAtMs: m.assignedAtMs,
  };
  return JSON.stringify(stored);
}

/** @throws {StreamingError} UNRECOVERABLE when the stored record is not a pchannel meta. */
export function decodePChannelMeta(text: string): PChannelMeta {
  try {
    const s = JSON.parse(text) as StoredMeta;
    if (typeof s.name !== 'string' || !(s.state in PChannelState)) throw new Error('missing name or state');
    return {
      name: s.name,
      term: BigInt(s.term),
      state: s.state,
      node: s.node ? decodeNode(s.node) : undefined,
      history: (s.history ?? []).map((h) => ({ term: BigInt(h.term), node: decodeNode(h.node) })),
      assignedAtMs: Number(s.assignedAtMs ?? 0),
    };
  } catch (e) {
    throw new StreamingError('UNRECOVERABLE', `stored pchannel meta is damaged: ${String(e)}`, { cause: e });
  }
}

/** A pchannel's meta and the store revision it was read or written at (for compare-and-swap). */
export interface VersionedMeta {
  readonly meta: PChannelMeta;
  readonly modRevision: bigint;
}

/**
 * The pchannel metas of a cluster in MetaKV, one key per pchannel. Every write is a compare-and-swap on
 * the key's revision plus the caller's `guard` (the active coordinator's leadership key), so a deposed
 * coordinator can never overwrite what its successor decided.
 */
export class PChannelMetaStore {
  readonly #kv: MetaKv;
  readonly #prefix: string;
  readonly #guard: () => readonly Compare[];

  /** `prefix` ends with `/`, e.g. `streamsvc/coord/`. */
  constructor(kv: MetaKv, prefix: string, guard: () => readonly Compare[]) {
    this.#kv = kv;
    this.#prefix = `${prefix}pchannels/`;
    this.#guard = guard;
  }

  /** Every stored meta, by name. */
  async loadAll(options: { signal?: AbortSignal } = {}): Promise<Map<string, VersionedMeta>> {
    const { kvs } = await listAll(this.#kv, this.#prefix, options);
    const out = new Map<string, VersionedMeta>();
    for (const kv of kvs) {
      const meta = decodePChannelMeta(new TextDecoder().decode(kv.value));
      out.set(meta.name, { meta, modRevision: kv.modRevision });
    }
    return out;
  }

  /**
   * Writes `next` if the stored record is still at `previous` (0n = must not exist).
   * @throws {StreamingError} COORDINATOR_NOT_ACTIVE when the guard or the revision no longer holds:
   *   someone else decides now, so this coordinator must stop acting.
   */
  async save(next: PChannelMeta, previous: bigint): Promise<VersionedMeta> {
    const key = this.#prefix + next.name;
    const result = await this.#kv.txn({
      compare: [...this.#guard(), { key, target: 'modRevision', op: '==', value: previous }],
      success: [{ type: 'put', key, value: encodePChannelMeta(next) }],
    });
    if (!result.succeeded) {
      throw new StreamingError(
        'COORDINATOR_NOT_ACTIVE',
        `pchannel ${next.name}: its meta changed under this coordinator (another coordinator is active)`,
      );
    }
    return { meta: next, modRevision: result.revision };
  }
}
