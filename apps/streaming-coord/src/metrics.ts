import type { AppMetrics } from '@streamsvc/app-kit';
import type { Broadcaster, ClusterCoordinator } from '@streamsvc/coordinator';

const PCHANNEL_STATES = ['UNINITIALIZED', 'ASSIGNING', 'ASSIGNED', 'UNAVAILABLE'] as const;

/**
 * The coordinator's metrics (read from its state at each scrape). Returns the refresher to pass to
 * `metrics.beforeScrape`.
 */
export function coordMetrics(
  metrics: AppMetrics,
): (coordinator: ClusterCoordinator, broadcaster: Broadcaster | undefined) => void {
  const active = metrics.gauge({
    name: 'streamsvc_coordinator_active',
    help: '1 while this coordinator is the active one, 0 on a standby.',
  });
  const activations = metrics.gauge({
    name: 'streamsvc_coordinator_activations',
    help: 'How many times this process became the active coordinator.',
  });
  const nodes = metrics.gauge({
    name: 'streamsvc_coordinator_nodes',
    help: 'Streaming nodes with a live session, by state (serving or draining). Active coordinator only.',
    labelNames: ['state'],
  });
  const pchannels = metrics.gauge({
    name: 'streamsvc_coordinator_pchannels',
    help: 'pchannels by assignment state; ASSIGNING counts moves in progress. Active coordinator only.',
    labelNames: ['state'],
  });
  const terms = metrics.gauge({
    name: 'streamsvc_coordinator_pchannel_term',
    help: "Each pchannel's current term (bumped by every move). Active coordinator only.",
    labelNames: ['pchannel'],
  });
  const broadcasts = metrics.gauge({
    name: 'streamsvc_coordinator_broadcasts_in_flight',
    help: 'Broadcasts started and not yet acknowledged on every vchannel.',
  });
  return (coordinator, broadcaster) => {
    const current = coordinator.active;
    active.set(current ? 1 : 0);
    activations.set(coordinator.activations);
    broadcasts.set(broadcaster?.inFlight ?? 0);
    nodes.reset();
    pchannels.reset();
    terms.reset();
    if (!current) return;
    const live = current.balancer.nodes;
    nodes.set({ state: 'serving' }, live.filter((n) => !n.draining).length);
    nodes.set({ state: 'draining' }, live.filter((n) => n.draining).length);
    const status = current.balancer.status();
    for (const state of PCHANNEL_STATES) pchannels.set({ state }, status.filter((p) => p.state === state).length);
    for (const p of status) terms.set({ pchannel: p.name }, Number(p.term));
  };
}
