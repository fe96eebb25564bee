import {
  StreamingCoordAssignmentServiceService,
  StreamingCoordBalancerServiceService,
  StreamingCoordBroadcastServiceService,
  TsoServiceService,
} from '@streamsvc/proto';
import {
  allMessageIdCodecs,
  broadcastDedupOptions,
  createLogger,
  createMetrics,
  startHttpServer,
} from '@streamsvc/app-kit';
import { StreamingClient } from '@streamsvc/client';
import { systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import {
  balancerService,
  Broadcaster,
  broadcastService,
  ClusterCoordinator,
  CLUSTER_APP_KEYS,
  discoveryService,
  GrpcNodeManager,
  tsoService,
} from '@streamsvc/coordinator';
import type { ActiveContext, ActiveCoordinator } from '@streamsvc/coordinator';
import { pchannelName, StreamingError } from '@streamsvc/message';
import { EtcdMetaKv } from '@streamsvc/metastore';
import { startGrpcServer } from '@streamsvc/node';

import type { ResolvedCoordConfig } from './config.js';
import { coordMetrics } from './metrics.js';

/** A running coordinator (active or standby). */
export interface CoordApp extends AsyncDisposable {
  readonly grpcAddress: string;
  readonly httpAddress: string;
  readonly coordinator: ClusterCoordinator;
  /** Graceful: resigns (a standby takes over at once), stops serving, closes etcd. Idempotent. */
  close(): Promise<void>;
}

export interface CoordOverrides {
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/**
 * Builds and starts a coordinator: etcd → gRPC server (discovery, TSO, broadcast, balancer; each
 * answers COORDINATOR_NOT_ACTIVE while this one is a standby) → campaign for leadership; when active,
 * the balancer assigns pchannels to the nodes registered in etcd and a broadcaster runs, appending
 * through a streaming client pointed at this coordinator.
 */
export async function compose(config: ResolvedCoordConfig, overrides: CoordOverrides = {}): Promise<CoordApp> {
  const logger: Logger = overrides.logger ?? createLogger({ level: config.logLevel, app: 'streamsvc-coord' });
  const clock = overrides.clock ?? systemClock;
  const cleanup: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const step of cleanup.reverse().splice(0))
      await step().catch((e: unknown) => logger.error({ err: e }, 'shutdown step failed'));
  };
  try {
    const kv = await EtcdMetaKv.connect({ endpoints: config.etcd.split(','), namespace: `${config.root}/` });
    cleanup.push(() => kv.close());
    const pchannels = Array.from({ length: config.pchannels }, (_, i) => pchannelName(config.cluster, i));

    // Services are registered before the coordinator exists (its address is the bound port).
    const current: { coordinator?: ClusterCoordinator; broadcaster?: Broadcaster } = {};
    const active = (): ActiveCoordinator => {
      if (!current.coordinator) throw new StreamingError('COORDINATOR_NOT_ACTIVE', 'the coordinator is starting');
      return current.coordinator.requireActive();
    };
    let address = config.advertise ?? config.listen;
    const grpc = await startGrpcServer({
      address: config.listen,
      register: (server) => {
        server.addService(
          StreamingCoordAssignmentServiceService,
          discoveryService({
            hub: () => active().hub,
            onReportedError: (p) => void current.coordinator?.active?.balancer.reportUnavailable(p.name, p.term),
            logger,
          }),
        );
        server.addService(TsoServiceService, tsoService({ allocate: async (n, o) => active().tso.allocate(n, o) }));
        server.addService(
          StreamingCoordBroadcastServiceService,
          broadcastService({ broadcaster: () => current.broadcaster, walName: config.wal, logger }),
        );
        server.addService(
          StreamingCoordBalancerServiceService,
          balancerService({ balancer: () => active().balancer, address: () => address }),
        );
      },
    });
    cleanup.push(() => grpc.stop(config.shutdownTimeoutMs));
    address = config.advertise ?? grpc.address;

    // The broadcaster appends to vchannels through the cluster's own routing, as any client does.
    let client: Promise<StreamingClient> | undefined;
    cleanup.push(async () => void (await client?.catch(() => undefined))?.close());
    const startBroadcaster = async (ctx: ActiveContext): Promise<{ close(): Promise<void> }> => {
      client ??= StreamingClient.connect({ endpoint: address, logger, clock, idCodecs: allMessageIdCodecs() });
      // A failed connect is retried at the next activation (the coordinator steps down and campaigns again).
      const appender = await client.catch((e: unknown) => {
        client = undefined;
        throw e;
      });
      const started = await Broadcaster.start({
        kv,
        prefix: CLUSTER_APP_KEYS.coord,
        guard: ctx.guard,
        tso: ctx.tso,
        clock,
        logger,
        dedup: broadcastDedupOptions(config),
        append: async (message, options) => {
          const r = await appender.append(message, options);
          return { messageId: r.id.toString(), timeTick: r.timeTick, lastConfirmed: r.lastConfirmed.toString() };
        },
      });
      current.broadcaster = started;
      return {
        close: async () => {
          if (current.broadcaster === started) current.broadcaster = undefined;
          await started.close();
        },
      };
    };

    const nodes = new GrpcNodeManager();
    cleanup.push(async () => nodes.close());
    const running = ClusterCoordinator.start({
      kv,
      keys: CLUSTER_APP_KEYS,
      pchannels,
      address,
      sessionTtlMs: config.sessionTtlMs,
      checkIntervalMs: config.checkIntervalMs,
      nodes,
      onActive: startBroadcaster,
      clock,
      logger,
    });
    current.coordinator = running;
    cleanup.push(() => running.close());

    const metrics = createMetrics();
    const refresh = coordMetrics(metrics);
    metrics.beforeScrape(() => refresh(running, current.broadcaster));
    const http = await startHttpServer({
      address: config.http,
      healthy: () => ({ ok: true, detail: { active: running.active !== undefined, address } }),
      metrics: () => metrics.scrape(),
    });
    cleanup.push(() => http.close());
    logger.info(
      { grpc: grpc.address, http: http.address, pchannels: pchannels.length, root: config.root },
      'streamsvc coordinator ready',
    );

    let closing: Promise<void> | undefined;
    const app: CoordApp = {
      grpcAddress: grpc.address,
      httpAddress: http.address,
      coordinator: running,
      close: () => (closing ??= closeAll().then(() => logger.info('streamsvc coordinator stopped'))),
      [Symbol.asyncDispose]: () => app.close(),
    };
    return app;
  } catch (e) {
    await closeAll();
    throw e;
  }
}
