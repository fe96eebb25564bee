import { noopLogger } from '@streamsvc/common';
import type { Logger } from '@streamsvc/common';
import type { MetaKv } from '@streamsvc/metastore';
import type { NodeInfo, PChannelInfo } from '@streamsvc/proto';

import { PChannelTerms } from './pchannel-terms.js';
import { TopologyHub } from './topology.js';

export interface SingleNodeCoordinatorOptions {
  readonly kv: MetaKv;
  /** From {@link SingleNodeCoordinator.createHub}: discovery may serve it before the pchannels are assigned. */
  readonly hub: TopologyHub;
  /** Every pchannel of the deployment. */
  readonly pchannels: readonly string[];
  readonly node: NodeInfo;
  /** Opens a pchannel on the (only) node under a term: the node's WalManager.assign. */
  readonly assign: (pchannel: string, term: bigint) => Promise<void>;
  readonly logger?: Logger;
}

/**
 * The coordinator role of the standalone server: one node owns every pchannel. At start each
 * pchannel's term is bumped in MetaKV (so this process fences whatever wrote before it — a crashed
 * previous run included) and the node opens it; then the topology is published for discovery.
 */
export class SingleNodeCoordinator {
  readonly hub: TopologyHub;
  readonly #log: Logger;

  private constructor(hub: TopologyHub, log: Logger) {
    this.hub = hub;
    this.#log = log;
  }

  /**
   * The topology hub of this incarnation: its global version is a counter bumped in MetaKV at every
   * start, so clients prefer this run's snapshots over any earlier run's.
   */
  static async createHub(kv: MetaKv, pchannels: readonly string[]): Promise<TopologyHub> {
    const incarnation = await new PChannelTerms(kv).bumpCounter('incarnation');
    return new TopologyHub(incarnation, pchannels);
  }

  static async start(options: SingleNodeCoordinatorOptions): Promise<SingleNodeCoordinator> {
    const log = (options.logger ?? noopLogger).child({ component: 'coordinator' });
    const terms = new PChannelTerms(options.kv);
    const hub = options.hub;
    const assigned: PChannelInfo[] = [];
    for (const pchannel of options.pchannels) {
      const term = await terms.bump(pchannel);
      await options.assign(pchannel, term);
      assigned.push({ name: pchannel, term });
      log.info({ pchannel, term: String(term) }, 'pchannel assigned');
    }
    hub.publish([{ node: options.node, pchannels: assigned }]);
    return new SingleNodeCoordinator(hub, log);
  }

  /** Ends every discovery stream. */
  close(): void {
    this.hub.close();
    this.#log.info('coordinator closed');
  }
}
