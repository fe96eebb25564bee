import { StreamingError } from '@streamsvc/message';

import type { NodeManagerPort, NodeWalStatus } from '../../src/node-manager-client.js';
import type { NodeRef } from '../../src/pchannel-meta.js';

/** In-process streaming nodes: what each holds open, and the order of every command. */
export class FakeNodes implements NodeManagerPort {
  readonly held = new Map<bigint, Map<string, bigint>>();
  readonly log: string[] = [];
  /** Assigns to and status checks of these nodes never finish until aborted. */
  readonly hang = new Set<bigint>();

  assign(node: NodeRef, pchannel: string, term: bigint, options: { signal?: AbortSignal }): Promise<void> {
    this.log.push(`assign ${pchannel}@${term} on ${node.serverId}`);
    if (this.hang.has(node.serverId)) {
      return new Promise((_, reject) =>
        options.signal?.addEventListener('abort', () => reject(options.signal!.reason)),
      );
    }
    const held = this.#node(node.serverId);
    if ((held.get(pchannel) ?? 0n) > term) {
      return Promise.reject(new StreamingError('IGNORED_OPERATION', 'stale'));
    }
    held.set(pchannel, term);
    return Promise.resolve();
  }

  remove(node: NodeRef, pchannel: string, term: bigint): Promise<void> {
    this.log.push(`remove ${pchannel}@${term} on ${node.serverId}`);
    const held = this.#node(node.serverId);
    if ((held.get(pchannel) ?? -1n) <= term) held.delete(pchannel);
    return Promise.resolve();
  }

  status(node: NodeRef, options: { signal?: AbortSignal } = {}): Promise<readonly NodeWalStatus[]> {
    this.log.push(`status of ${node.serverId}`);
    if (this.hang.has(node.serverId)) {
      return new Promise((_, reject) =>
        options.signal?.addEventListener('abort', () => reject(options.signal!.reason)),
      );
    }
    return Promise.resolve(
      [...this.#node(node.serverId)].map(([pchannel, term]) => ({ pchannel, term, state: 'open' })),
    );
  }

  close(): void {}

  /** Pchannels per node, for assertions. */
  layout(): Map<bigint, string[]> {
    const out = new Map<bigint, string[]>();
    for (const [id, held] of this.held) if (held.size > 0) out.set(id, [...held.keys()].sort());
    return out;
  }

  #node(id: bigint): Map<string, bigint> {
    let held = this.held.get(id);
    if (!held) this.held.set(id, (held = new Map()));
    return held;
  }
}
