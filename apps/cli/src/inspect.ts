import { credentials, Metadata } from '@grpc/grpc-js';
import type { StreamingClient } from '@streamsvc/client';
import { HealthCheckResponse_ServingStatus, HealthClient, StreamingNodeManagerServiceClient } from '@streamsvc/proto';
import type { CollectStatusResponse, HealthCheckResponse } from '@streamsvc/proto';

import type { Io } from './output.js';
import { toJson } from './output.js';

/** Prints who owns each pchannel under which term. */
export function printTopology(client: StreamingClient, json: boolean, io: Io): void {
  const t = client.topology();
  const rows = t.pchannels.map((p) => {
    const a = t.assignments.get(p);
    return { pchannel: p, term: a?.term, node: a?.node.address, serverId: a?.node.serverId };
  });
  if (json) {
    io.out(toJson({ version: t.version, pchannels: rows }));
    return;
  }
  io.out(`topology version ${t.version.global}.${t.version.local}, ${t.pchannels.length} pchannels`);
  for (const r of rows)
    io.out(`  ${r.pchannel.padEnd(24)} ${r.node ? `node ${r.serverId} ${r.node} term ${r.term}` : 'unassigned'}`);
}

/** Asks every node of the topology for its health and WAL status. */
export async function printStatus(client: StreamingClient, json: boolean, io: Io): Promise<void> {
  const addresses = [...new Set([...client.topology().assignments.values()].map((a) => a.node.address))].sort();
  const nodes = await Promise.all(
    addresses.map(async (address) => {
      const manager = new StreamingNodeManagerServiceClient(address, credentials.createInsecure());
      const health = new HealthClient(address, credentials.createInsecure());
      const deadline = new Date(Date.now() + 5000);
      try {
        const [status, check] = await Promise.all([
          new Promise<CollectStatusResponse>((resolve, reject) =>
            manager.collectStatus({}, new Metadata(), { deadline }, (e, r) => (e ? reject(e) : resolve(r))),
          ),
          new Promise<HealthCheckResponse>((resolve, reject) =>
            health.check({ service: '' }, new Metadata(), { deadline }, (e, r) => (e ? reject(e) : resolve(r))),
          ),
        ]);
        return {
          address,
          serving: check.status === HealthCheckResponse_ServingStatus.SERVING,
          wals: status.wals,
          error: undefined,
        };
      } catch (e) {
        return { address, serving: false, wals: [], error: (e as Error).message };
      } finally {
        manager.close();
        health.close();
      }
    }),
  );
  if (json) {
    io.out(
      toJson({
        nodes: nodes.map((n) => ({
          address: n.address,
          serving: n.serving,
          error: n.error,
          wals: n.wals.map((w) => ({
            pchannel: w.pchannel?.name,
            term: w.pchannel?.term,
            state: w.state,
            latestTimeTick: w.latestTimeTick,
            lastConfirmed: w.lastConfirmed,
          })),
        })),
      }),
    );
    return;
  }
  for (const n of nodes) {
    io.out(`node ${n.address}: ${n.serving ? 'serving' : `NOT serving${n.error ? ` (${n.error})` : ''}`}`);
    for (const w of n.wals)
      io.out(
        `  ${(w.pchannel?.name ?? '?').padEnd(24)} term ${w.pchannel?.term} ${w.state.padEnd(8)} tt ${w.latestTimeTick} lc ${w.lastConfirmed}`,
      );
  }
}
