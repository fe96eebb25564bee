import type { FullAssignment } from '@streamsvc/proto';

/** Orders topology snapshots: `global` (coordinator incarnation) first, then `local`. */
export interface TopologyVersion {
  readonly global: bigint;
  readonly local: bigint;
}

/** A streaming node as the topology names it. */
export interface NodeRef {
  readonly serverId: bigint;
  /** `host:port` of the node's gRPC endpoint. */
  readonly address: string;
}

/** Who owns a pchannel, and under which term. */
export interface PChannelAssignment {
  readonly pchannel: string;
  /** Bumped by the coordinator every time the pchannel is (re)assigned. */
  readonly term: bigint;
  readonly node: NodeRef;
}

/** One full topology snapshot as received from the discovery stream. Immutable. */
export interface TopologySnapshot {
  readonly version: TopologyVersion;
  /** Every pchannel of the cluster, assigned or not, sorted. */
  readonly pchannels: readonly string[];
  /** The assigned pchannels (a pchannel being moved is absent until its new owner is ready). */
  readonly assignments: ReadonlyMap<string, PChannelAssignment>;
}

/** The snapshot before anything was received: version {-1, -1}, nothing known. */
export const EMPTY_TOPOLOGY: TopologySnapshot = Object.freeze({
  version: Object.freeze({ global: -1n, local: -1n }),
  pchannels: Object.freeze([]) as readonly string[],
  assignments: new Map<string, PChannelAssignment>(),
});

/** -1, 0 or 1 as `a` is older than, equal to or newer than `b`. */
export function compareVersions(a: TopologyVersion, b: TopologyVersion): -1 | 0 | 1 {
  if (a.global !== b.global) return a.global < b.global ? -1 : 1;
  if (a.local !== b.local) return a.local < b.local ? -1 : 1;
  return 0;
}

/** Builds a snapshot from the wire. A pchannel assigned but missing from `pchannels` is added to it. */
export function snapshotFromWire(full: FullAssignment): TopologySnapshot {
  const assignments = new Map<string, PChannelAssignment>();
  const names = new Set(full.pchannels);
  for (const a of full.assignments) {
    if (a.node === undefined) continue;
    const node: NodeRef = Object.freeze({ serverId: a.node.serverId, address: a.node.address });
    for (const p of a.pchannels) {
      names.add(p.name);
      // Two nodes claiming one pchannel would be a coordinator bug; the higher term is the newer claim.
      const known = assignments.get(p.name);
      if (known === undefined || known.term < p.term) {
        assignments.set(p.name, Object.freeze({ pchannel: p.name, term: p.term, node }));
      }
    }
  }
  return Object.freeze({
    version: Object.freeze({ global: full.version?.global ?? 0n, local: full.version?.local ?? 0n }),
    pchannels: Object.freeze([...names].sort()),
    assignments,
  });
}

/** True when a snapshot was received and every pchannel in it has an owner. */
export function isTopologyReady(t: TopologySnapshot): boolean {
  return t.version.global >= 0n && t.pchannels.every((p) => t.assignments.has(p));
}

/** A one-line description for logs: `v3.7 dml_0→127.0.0.1:1234@t2, dml_1→(unassigned)`. */
export function describeTopology(t: TopologySnapshot): string {
  const parts = t.pchannels.map((p) => {
    const a = t.assignments.get(p);
    return a === undefined ? `${p}→(unassigned)` : `${p}→${a.node.address}@t${a.term}`;
  });
  return `v${t.version.global}.${t.version.local} ${parts.join(', ')}`;
}
