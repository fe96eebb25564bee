import { StreamingError } from '@streamsvc/message';

import type { PChannelAssignment, TopologySnapshot } from './topology.js';

/** What {@link assignmentOf} answers for a pchannel that the cluster does not have. */
export const UNKNOWN_PCHANNEL: unique symbol = Symbol('unknown pchannel');

/**
 * The owner of `pchannel` in `t`; undefined while it has none (not yet known, or being moved);
 * {@link UNKNOWN_PCHANNEL} when a snapshot arrived and does not list the pchannel at all.
 */
export function assignmentOf(
  t: TopologySnapshot,
  pchannel: string,
): PChannelAssignment | typeof UNKNOWN_PCHANNEL | undefined {
  const a = t.assignments.get(pchannel);
  if (a !== undefined) return a;
  // Once a snapshot arrived, a pchannel it does not list is a wrong name, not a pchannel in transit.
  if (t.version.global >= 0n && !t.pchannels.includes(pchannel)) return UNKNOWN_PCHANNEL;
  return undefined;
}

/** True when `t` assigns the pchannel under a newer term or to another node. */
export function movedOn(t: TopologySnapshot, failed: PChannelAssignment): boolean {
  const a = t.assignments.get(failed.pchannel);
  return a !== undefined && (a.term > failed.term || a.node.address !== failed.node.address);
}

/** INVALID_ARGUMENT naming a pchannel the cluster does not have. */
export function unknownPChannel(pchannel: string, t: TopologySnapshot): StreamingError {
  const known = t.pchannels.length > 6 ? `${t.pchannels.slice(0, 6).join(', ')}, …` : t.pchannels.join(', ');
  return new StreamingError(
    'INVALID_ARGUMENT',
    `pchannel ${pchannel} is not a pchannel of this cluster (known: ${known || '(none)'})`,
    { details: { pchannel } },
  );
}
