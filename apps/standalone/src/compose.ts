import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import {
  HealthService,
  StreamingCoordAssignmentServiceService,
  StreamingCoordBroadcastServiceService,
  TsoServiceService,
} from '@streamsvc/proto';
import {
  broadcastDedupOptions,
  createLogger,
  createMetrics,
  openWalBackend,
  startHttpServer,
  walBackends,
  walNodeMetrics,
} from '@streamsvc/app-kit';
import { systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import { broadcastService, discoveryService, SingleNodeCoordinator, tsoService } from '@streamsvc/coordinator';
import type { VChannelAppender } from '@streamsvc/coordinator';
import { pchannelName, toPChannel } from '@streamsvc/message';
import { EmbeddedMetaKv } from '@streamsvc/metastore';
import { StreamingNode, WalManager, startGrpcServer } from '@streamsvc/node';
import { BatchTsoAllocator, GlobalTsoAllocator } from '@streamsvc/tso';
import { MetaKvCheckpointStore } from '@streamsvc/wal-core';

import type { ResolvedStandaloneConfig } from './config.js';

/** A running standalone server. */
export interface StandaloneApp extends AsyncDisposable {
  /** The gRPC address clients connect to (the port is resolved when 0 was asked for). */
  readonly grpcAddress: string;
  readonly httpAddress: string;
  readonly pchannels: readonly string[];
  /** Graceful: streams end with ON_SHUTDOWN, WALs close, then the metastore. Idempotent. */
  close(): Promise<void>;
}

/** What tests may replace. */
export interface StandaloneOverrides {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Wraps the per-vchannel append of broadcasts, e.g. to make it slow (default: as is). */
  readonly wrapBroadcastAppend?: (append: VChannelAppender) => VChannelAppender;
}

/**
 * Builds and starts the standalone object graph: embedded metastore → TSO → WAL backend → WAL manager →
 * node services + coordinator role (discovery, TSO, broadcast) on one gRPC port → every pchannel
 * assigned under a freshly bumped term → /healthz and /metrics.
 */
export async function compose(
  config: ResolvedStandaloneConfig,
  overrides: StandaloneOverrides = {},
): Promise<StandaloneApp> {
  const logger: Logger = overrides.logger ?? createLogger({ level: config.logLevel, app: 'streamsvc-standalone' });
  const clock = overrides.clock ?? systemClock;
  const dataDir = path.resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const cleanup: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const step of cleanup.reverse().splice(0))
      await step().catch((e: unknown) => logger.error({ err: e }, 'shutdown step failed'));
  };
  try {
    const kv = await EmbeddedMetaKv.open({ path: path.join(dataDir, 'meta'), logger, clock });
    cleanup.push(() => kv.close());
    const globalTso = await GlobalTsoAllocator.open({ kv, clock, logger });
    cleanup.push(() => globalTso.close());
    const tso = new BatchTsoAllocator({ source: globalTso, clock, logger });

    const backend = walBackends.get(config.wal);
    const opener = await openWalBackend(
      config.wal,
      { ...config, woodpecker: { mode: 'local', rootDir: path.join(dataDir, 'wal') } },
      { logger, clock, metaKv: kv },
    );
    cleanup.push(() => opener.close());

    const metrics = createMetrics();
    const walMetrics = walNodeMetrics(metrics, { clock });
    // The tail buffer's budget is for the node: each WAL gets its share.
    const walConfig = {
      writeAheadBuffer: {
        capacityBytes: Math.floor((config.writeAheadBufferMiB * 1024 * 1024) / config.pchannels),
        keepaliveMs: 30_000,
      },
    };
    const manager = new WalManager({
      opener,
      tso,
      walConfig,
      logger,
      clock,
      interceptors: (p) => [walMetrics.appendInterceptor(p)],
      // A memory WAL starts empty after a restart: a checkpoint of its previous life would be wrong.
      checkpoints:
        config.wal !== 'memory'
          ? new MetaKvCheckpointStore({ kv, prefix: 'wal/checkpoints/', ids: backend.messageIds })
          : undefined,
    });
    cleanup.push(() => manager.close());
    const pchannels = Array.from({ length: config.pchannels }, (_, i) => pchannelName(config.cluster, i));
    const hub = await SingleNodeCoordinator.createHub(kv, pchannels);
    let address = config.listen;
    const node = new StreamingNode({
      manager,
      walName: backend.name,
      idCodec: backend.messageIds,
      logger,
      node: () => ({ serverId: 1n, address }),
    });
    const broadcastAppend: VChannelAppender = async (message, options) => {
      const r = await manager.get(toPChannel(message.vchannel!)).append(message, options);
      return { messageId: r.id.toString(), timeTick: r.timeTick, lastConfirmed: r.lastConfirmed.toString() };
    };
    const grpc = await startGrpcServer({
      address: config.listen,
      register: (server) => {
        node.register(server);
        server.addService(StreamingCoordAssignmentServiceService, discoveryService({ hub, logger }));
        server.addService(TsoServiceService, tsoService(globalTso));
        server.addService(
          StreamingCoordBroadcastServiceService,
          broadcastService({
            tso: globalTso,
            walName: backend.name,
            clock,
            logger,
            dedup: broadcastDedupOptions(config),
            append: overrides.wrapBroadcastAppend?.(broadcastAppend) ?? broadcastAppend,
          }),
        );
        void HealthService; // registered by the node
      },
    });
    address = grpc.address;
    cleanup.push(() => grpc.stop(config.shutdownTimeoutMs));
    cleanup.push(() => node.shutdown());
    const coordinator = await SingleNodeCoordinator.start({
      kv,
      hub,
      pchannels,
      node: { serverId: 1n, address },
      assign: (p, term) => manager.assign(p, term),
      logger,
    });
    cleanup.push(async () => coordinator.close());
    metrics.beforeScrape(() => walMetrics.observe(manager, node));

    const http = await startHttpServer({
      address: config.http,
      healthy: () => {
        const open = manager.status().filter((w) => w.state === 'open').length;
        return { ok: open === pchannels.length, detail: { walsOpen: open, pchannels: pchannels.length } };
      },
      metrics: () => metrics.scrape(),
    });
    cleanup.push(() => http.close());
    logger.info(
      { grpc: grpc.address, http: http.address, dataDir, wal: config.wal, pchannels: pchannels.length },
      'streamsvc standalone ready',
    );

    let closing: Promise<void> | undefined;
    const app: StandaloneApp = {
      grpcAddress: grpc.address,
      httpAddress: http.address,
      pchannels,
      close: () => (closing ??= closeAll().then(() => logger.info('streamsvc standalone stopped'))),
      [Symbol.asyncDispose]: () => app.close(),
    };
    return app;
  } catch (e) {
    await closeAll();
    throw e;
  }
}
