import type { CallOptions } from '@streamsvc/common';
import { Session, watchSessions } from '@streamsvc/metastore';
import type { KeyValue, MetaKv } from '@streamsvc/metastore';

import type { NodeRef } from './pchannel-meta.js';

/** What a streaming node says about itself in its session. */
export interface NodeSessionInfo extends NodeRef {
  /** The node asked to hand its pchannels over before it stops. */
  readonly draining: boolean;
  /** Software version, for operators. */
  readonly version: string;
  readonly startedAtMs: number;
}

/** MetaKV layout shared by coordinators and nodes of one cluster; `root` ends with `/`. */
export interface ClusterKeys {
  /** `<root>session/node/`: one session per live node. */
  readonly nodeSessions: string;
  /** `<root>coord/`: pchannel metas, counters, broadcast tasks. */
  readonly coord: string;
  /** `<root>coord/leader`: the coordinator election. */
  readonly election: string;
  /** `<root>tso/timestamp`: the global TSO's persisted bound. */
  readonly tso: string;
  /** `<root>coord/counters/server-id`. */
  readonly serverIdCounter: string;
}

/** The keys of the cluster rooted at `root` (e.g. `streamsvc/by-dev/`). */
export function clusterKeys(root: string): ClusterKeys {
  const r = root.endsWith('/') ? root : `${root}/`;
  return {
    nodeSessions: `${r}session/node/`,
    coord: `${r}coord/`,
    election: `${r}coord/leader`,
    tso: `${r}tso/timestamp`,
    serverIdCounter: `${r}coord/counters/server-id`,
  };
}

/**
 * The layout the cluster apps (streaming-coord, streaming-node) share: their MetaKV namespace is the
 * cluster's etcd prefix (`--root`), and the streaming keys live under `cluster/` in it, beside the
 * WAL backend's own (`woodpecker/`).
 */
export const CLUSTER_APP_KEYS: ClusterKeys = clusterKeys('cluster');

/**
 * Allocates a server id never used before in this cluster (a counter bumped by compare-and-swap), so a
 * restarted node is a new node: the coordinator never confuses its fresh WAL manager with the old one's.
 */
export async function allocateServerId(kv: MetaKv, keys: ClusterKeys, options: CallOptions = {}): Promise<bigint> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const current = await kv.get(keys.serverIdCounter, { signal: options.signal });
    const next = (current ? BigInt(new TextDecoder().decode(current.value)) : 0n) + 1n;
    const r = await kv.txn(
      {
        compare: [{ key: keys.serverIdCounter, target: 'modRevision', op: '==', value: current?.modRevision ?? 0n }],
        success: [{ type: 'put', key: keys.serverIdCounter, value: String(next) }],
      },
      { signal: options.signal },
    );
    if (r.succeeded) return next;
  }
  throw new Error(`[coordinator] could not allocate a server id at ${keys.serverIdCounter}: too much contention`);
}

export function encodeNodeSession(info: NodeSessionInfo): string {
  return JSON.stringify({
    serverId: String(info.serverId),
    address: info.address,
    draining: info.draining,
    version: info.version,
    startedAtMs: info.startedAtMs,
  });
}

/** A session's value, or undefined when it is not a node session (ignored, logged by the caller). */
export function decodeNodeSession(kv: KeyValue): NodeSessionInfo | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(kv.value)) as Record<string, unknown>;
    if (typeof v['serverId'] !== 'string' || typeof v['address'] !== 'string') return undefined;
    return {
      serverId: BigInt(v['serverId']),
      address: v['address'],
      draining: v['draining'] === true,
      version: typeof v['version'] === 'string' ? v['version'] : '',
      startedAtMs: typeof v['startedAtMs'] === 'number' ? v['startedAtMs'] : 0,
    };
  } catch {
    return undefined;
  }
}

/** Options of {@link NodeSession.register}. */
export interface NodeSessionOptions extends CallOptions {
  readonly keys: ClusterKeys;
  readonly serverId: bigint;
  /** The node's gRPC address as clients and the coordinator reach it. */
  readonly address: string;
  readonly ttlMs: number;
  readonly version?: string;
}

/**
 * A streaming node's presence in the cluster: a session key under a lease. The coordinator assigns
 * pchannels to live sessions and reassigns a node's pchannels when its lease expires.
 */
export class NodeSession implements AsyncDisposable {
  readonly #session: Session;
  #info: NodeSessionInfo;

  private constructor(session: Session, info: NodeSessionInfo) {
    this.#session = session;
    this.#info = info;
  }

  static async register(kv: MetaKv, options: NodeSessionOptions): Promise<NodeSession> {
    const info: NodeSessionInfo = {
      serverId: options.serverId,
      address: options.address,
      draining: false,
      version: options.version ?? '',
      startedAtMs: Date.now(),
    };
    const session = await Session.register(kv, {
      key: `${options.keys.nodeSessions}${options.serverId}`,
      value: encodeNodeSession(info),
      ttlMs: options.ttlMs,
      signal: options.signal,
    });
    return new NodeSession(session, info);
  }

  get info(): NodeSessionInfo {
    return this.#info;
  }

  /** Settles when the lease is gone: the coordinator has (or will have) moved this node's pchannels away. */
  get lost(): Promise<unknown> {
    return this.#session.lost;
  }

  get isLost(): boolean {
    return this.#session.isLost;
  }

  /** Asks the coordinator to move every pchannel away from this node (graceful shutdown). */
  async drain(options: CallOptions = {}): Promise<void> {
    this.#info = { ...this.#info, draining: true };
    await this.#session.update(encodeNodeSession(this.#info), options);
  }

  /** Removes the session at once (the coordinator reassigns without waiting for the TTL). Idempotent. */
  close(): Promise<void> {
    return this.#session.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * The live streaming nodes: a snapshot now, then one after every change (join, drain, leave). Ends
 * when `signal` aborts; throws what the watch throws.
 */
export async function* watchNodes(
  kv: MetaKv,
  keys: ClusterKeys,
  options: CallOptions = {},
): AsyncGenerator<readonly NodeSessionInfo[], void, undefined> {
  for await (const snapshot of watchSessions(kv, keys.nodeSessions, options)) {
    const nodes: NodeSessionInfo[] = [];
    for (const s of snapshot.sessions) {
      const info = decodeNodeSession(s);
      if (info) nodes.push(info);
    }
    yield nodes;
  }
}
