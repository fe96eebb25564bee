import path from 'node:path';

import {
  createLogger,
  createMetrics,
  openWalBackend,
  startHttpServer,
  walBackends,
  walNodeMetrics,
} from '@streamsvc/app-kit';
import { systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import { CLUSTER_APP_KEYS, RemoteTsoSource } from '@streamsvc/coordinator';
import { EtcdMetaKv } from '@streamsvc/metastore';
import { StreamingNode, WalManager, startGrpcServer } from '@streamsvc/node';
import { openObjectStore } from '@streamsvc/objectstore';
import type { ObjectStore } from '@streamsvc/objectstore';
import { BatchTsoAllocator } from '@streamsvc/tso';
import { MetaKvCheckpointStore } from '@streamsvc/wal-core';

import type { ResolvedNodeConfig } from './config.js';
import { Membership } from './membership.js';

const VERSION = '0.1.0';

/** A running streaming node. */
export interface NodeApp extends AsyncDisposable {
  readonly grpcAddress: string;
  readonly httpAddress: string;
  readonly membership: Membership;
  /**
   * Graceful: drains (the coordinator moves every pchannel away, each closed here first), ends the
   * streams with ON_SHUTDOWN, closes the WALs, leaves the cluster. Idempotent.
   */
  close(): Promise<void>;
}

export interface NodeOverrides {
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/**
 * Builds and starts a streaming node: etcd → TSO from the active coordinator → the WAL backend
 * (`--wal`; Woodpecker on the configured storage by default) → WAL manager → gRPC services (Produce,
 * Consume, the manager the coordinator drives, health) → /healthz and /metrics → a session in etcd,
 * after which the coordinator assigns it pchannels.
 */
export async function compose(config: ResolvedNodeConfig, overrides: NodeOverrides = {}): Promise<NodeApp> {
  const logger: Logger = overrides.logger ?? createLogger({ level: config.logLevel, app: 'streamsvc-node' });
  const clock = overrides.clock ?? systemClock;
  const cleanup: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const step of cleanup.reverse().splice(0))
      await step().catch((e: unknown) => logger.error({ err: e }, 'shutdown step failed'));
  };
  try {
    const kv = await EtcdMetaKv.connect({ endpoints: config.etcd.split(','), namespace: `${config.root}/` });
    cleanup.push(() => kv.close());
    const remoteTso = new RemoteTsoSource({ kv, keys: CLUSTER_APP_KEYS, clock, logger });
    cleanup.push(() => remoteTso.close());
    const tso = new BatchTsoAllocator({ source: remoteTso, clock, logger });

    const walDir = path.resolve(config.walDir);
    const woodpecker = config.wal === 'woodpecker';
    let objectStore: ObjectStore | undefined;
    if (woodpecker && config.storage === 'object-local') {
      objectStore = await openObjectStore({ kind: 'local', root: walDir });
    }
    if (woodpecker && config.storage === 's3') {
      objectStore = await openObjectStore({
        kind: 's3',
        endpoint: config.s3Endpoint!,
        bucket: config.s3Bucket!,
        accessKey: config.s3AccessKey!,
        secretKey: config.s3SecretKey!,
      });
    }
    if (objectStore) cleanup.push(async () => objectStore.close());
    const backend = walBackends.get(config.wal);
    const opener = await openWalBackend(
      config.wal,
      { ...config, woodpecker: config.storage === 'local' ? { mode: 'local', rootDir: walDir } : { mode: 'object' } },
      { logger, clock, metaKv: kv, objectStore },
    );
    cleanup.push(() => opener.close());

    const metrics = createMetrics();
    const walMetrics = walNodeMetrics(metrics, { clock });
    const manager = new WalManager({
      opener,
      tso,
      walConfig: { writeAheadBuffer: { capacityBytes: config.writeAheadBufferMiB * 1024 * 1024, keepaliveMs: 30_000 } },
      logger,
      clock,
      interceptors: (p) => [walMetrics.appendInterceptor(p)],
      checkpoints:
        config.wal === 'memory'
          ? undefined
          : new MetaKvCheckpointStore({ kv, prefix: 'wal/checkpoints/', ids: backend.messageIds }),
    });
    cleanup.push(() => manager.close());

    const current: { membership?: Membership } = {};
    let address = config.advertise ?? config.listen;
    const node = new StreamingNode({
      manager,
      walName: backend.name,
      idCodec: backend.messageIds,
      logger,
      node: () => ({ serverId: current.membership?.serverId ?? 0n, address }),
    });
    const grpc = await startGrpcServer({ address: config.listen, register: (server) => node.register(server) });
    address = config.advertise ?? grpc.address;
    cleanup.push(() => grpc.stop(config.shutdownTimeoutMs));
    cleanup.push(() => node.shutdown());

    // HTTP before joining: a port that cannot be bound must fail the start before any pchannel comes here.
    const http = await startHttpServer({
      address: config.http,
      healthy: () => {
        const m = current.membership;
        return {
          ok: m?.joined ?? false,
          detail: {
            serverId: String(m?.serverId ?? 0n),
            wals: manager.status().length,
            draining: m?.draining ?? false,
          },
        };
      },
      metrics: () => metrics.scrape(),
    });
    cleanup.push(() => http.close());

    const joined = await Membership.join({
      kv,
      keys: CLUSTER_APP_KEYS,
      address,
      sessionTtlMs: config.sessionTtlMs,
      manager,
      version: VERSION,
      clock,
      logger,
    });
    current.membership = joined;
    cleanup.push(() => joined.close());
    metrics.beforeScrape(() => walMetrics.observe(manager, node));

    logger.info(
      { grpc: grpc.address, http: http.address, serverId: String(joined.serverId), wal: config.wal },
      'streamsvc node ready',
    );

    let closing: Promise<void> | undefined;
    const app: NodeApp = {
      grpcAddress: grpc.address,
      httpAddress: http.address,
      membership: joined,
      close: () =>
        (closing ??= (async () => {
          await joined.drain(config.drainTimeoutMs);
          await closeAll();
          logger.info('streamsvc node stopped');
        })()),
      [Symbol.asyncDispose]: () => app.close(),
    };
    return app;
  } catch (e) {
    await closeAll();
    throw e;
  }
}
