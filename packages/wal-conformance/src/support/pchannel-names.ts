import { randomUUID } from 'node:crypto';
import { pchannelName } from '@streamsvc/message';

/**
 * `count` fresh pchannel names sharing one random cluster, e.g. `conf3f9a1c07b2-dml_0`. Every scenario
 * takes new names so scenarios never see each other's records, even against a shared broker.
 */
export function uniquePChannels(count: number, prefix = 'conf'): string[] {
  const cluster = `${prefix}${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  return Array.from({ length: count }, (_, index) => pchannelName(cluster, index));
}
