import type { FullAssignment, NodeInfo, PChannelInfo } from '@streamsvc/proto';

/** Who owns what: a versioned full snapshot, the unit the discovery stream sends. */
export interface Topology {
  /** Compared (global, then local): a client accepts only a strictly newer snapshot. */
  readonly version: { readonly global: bigint; readonly local: bigint };
  readonly assignments: readonly { readonly node: NodeInfo; readonly pchannels: readonly PChannelInfo[] }[];
  /** Every pchannel of the cluster, assigned or not. */
  readonly pchannels: readonly string[];
}

/** The wire form of a topology. */
export function toFullAssignment(t: Topology): FullAssignment {
  return {
    version: { global: t.version.global, local: t.version.local },
    assignments: t.assignments.map((a) => ({ node: a.node, pchannels: [...a.pchannels] })),
    pchannels: [...t.pchannels],
  };
}

/**
 * Holds the current topology and wakes watchers when it changes. Publishing bumps the local version,
 * so every published snapshot is strictly newer than the one before.
 */
export class TopologyHub {
  #current: Topology;
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(global: bigint, pchannels: readonly string[]) {
    this.#current = { version: { global, local: 0n }, assignments: [], pchannels };
  }

  get current(): Topology {
    return this.#current;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Replaces the assignments; watchers see the new snapshot. */
  publish(assignments: Topology['assignments'], pchannels: readonly string[] = this.#current.pchannels): Topology {
    const v = this.#current.version;
    this.#current = { version: { global: v.global, local: v.local + 1n }, assignments, pchannels };
    this.#wake();
    return this.#current;
  }

  /** Resolves when a snapshot newer than `version` exists (or the hub closed). */
  async waitNewer(version: Topology['version'], signal?: AbortSignal): Promise<void> {
    while (!this.#closed && !isNewer(this.#current.version, version)) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  close(): void {
    this.#closed = true;
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** True when `a` is strictly newer than `b` (global first, then local). */
export function isNewer(a: Topology['version'], b: Topology['version']): boolean {
  return a.global > b.global || (a.global === b.global && a.local > b.local);
}
