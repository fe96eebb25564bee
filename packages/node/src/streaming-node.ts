import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { CloseOnce, noopLogger } from '@streamsvc/common';
import type { Logger } from '@streamsvc/common';
import { StreamingError } from '@streamsvc/message';
import type { MessageIdCodec } from '@streamsvc/message';
import {
  HealthService,
  StreamingNodeHandlerServiceService,
  StreamingNodeManagerServiceService,
} from '@streamsvc/proto';
import type { NodeInfo, ProduceRequest, ProduceResponse } from '@streamsvc/proto';

import { ConsumeHandler } from './consume-handler.js';
import type { ConsumeCall } from './consume-handler.js';
import { healthService } from './health-service.js';
import { managerService } from './manager-service.js';
import { ProduceHandler } from './produce-handler.js';
import type { WalManager } from './wal-manager.js';

export interface StreamingNodeOptions {
  readonly manager: WalManager;
  /** The WAL backend's name and id codec (clients learn the name; deliver policies are parsed with the codec). */
  readonly walName: string;
  readonly idCodec: MessageIdCodec;
  /** This node's id and advertised address (for status and the coordinator). */
  readonly node: () => NodeInfo;
  readonly logger?: Logger;
  /** Produce requests one stream may have in flight before the server stops reading it. Default 256. */
  readonly maxInFlightRequestsPerProducer?: number;
  /** Messages per consume response. Default 256. */
  readonly consumeBatchSize?: number;
}

/**
 * The streaming node's gRPC services — Produce, Consume, Manager and health — registered on a grpc-js
 * server the app owns (the standalone app puts the coordinator services on the same port). Shutting
 * down refuses new streams with ON_SHUTDOWN, lets producers finish the requests in flight, then
 * closes every stream with `close { ON_SHUTDOWN }` so clients move on at once.
 */
export class StreamingNode {
  readonly #o: StreamingNodeOptions;
  readonly #log: Logger;
  readonly #producers = new Set<ProduceHandler>();
  readonly #consumers = new Set<ConsumeHandler>();
  readonly #closer = new CloseOnce();
  #shuttingDown = false;

  constructor(options: StreamingNodeOptions) {
    this.#o = options;
    this.#log = (options.logger ?? noopLogger).child({ component: 'streaming-node' });
  }

  /** Adds the node's services to `server`. */
  register(server: Server): void {
    const shuttingDown = (): boolean => this.#shuttingDown;
    server.addService(StreamingNodeHandlerServiceService, {
      produce: (call: ServerDuplexStream<ProduceRequest, ProduceResponse>) => {
        const handler = new ProduceHandler(call, {
          manager: this.#o.manager,
          walName: this.#o.walName,
          logger: this.#log,
          maxInFlightRequests: this.#o.maxInFlightRequestsPerProducer ?? 256,
          shuttingDown,
        });
        this.#producers.add(handler);
        call.on('close', () => this.#producers.delete(handler));
      },
      // Written with ConsumeBatches, which the service's consume serializer encodes.
      consume: (call: ConsumeCall) => {
        const handler = new ConsumeHandler(call, {
          manager: this.#o.manager,
          walName: this.#o.walName,
          idCodec: this.#o.idCodec,
          logger: this.#log,
          batchSize: this.#o.consumeBatchSize ?? 256,
          shuttingDown,
        });
        this.#consumers.add(handler);
        call.on('close', () => this.#consumers.delete(handler));
      },
    });
    server.addService(StreamingNodeManagerServiceService, managerService(this.#o.manager, this.#o.node));
    server.addService(
      HealthService,
      healthService(() => !this.#shuttingDown),
    );
  }

  /** Streams open right now (status and tests). */
  get streams(): { readonly producers: number; readonly consumers: number } {
    return { producers: this.#producers.size, consumers: this.#consumers.size };
  }

  /** Refuses new streams, ends the open ones with ON_SHUTDOWN (producers after their in-flight requests). */
  shutdown(): Promise<void> {
    this.#shuttingDown = true;
    return this.#closer.run(async () => {
      const error = new StreamingError('ON_SHUTDOWN', 'the node is shutting down');
      await Promise.allSettled([...this.#producers].map((p) => p.shutdown(error)));
      await Promise.allSettled([...this.#consumers].map((c) => c.shutdown(error)));
      this.#log.info('streams closed for shutdown');
    });
  }
}

/** Options of {@link startGrpcServer}. */
export interface GrpcServerOptions {
  /** `host:port`; port 0 picks a free one. Only loopback or an explicit interface — never a wildcard by default. */
  readonly address: string;
  readonly register: (server: Server) => void;
  /** Largest request accepted, bytes. Default 64 MiB (a produce request may carry many messages). */
  readonly maxReceiveBytes?: number;
}

/** A started grpc-js server and the port it bound. */
export interface GrpcServerHandle {
  readonly server: Server;
  readonly port: number;
  readonly address: string;
  /** Graceful shutdown, forced after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a grpc-js server with the given services on `address`. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServerHandle> {
  const max = options.maxReceiveBytes ?? 64 * 1024 * 1024;
  const server = new Server({
    'grpc.max_receive_message_length': max,
    'grpc.max_send_message_length': max,
    // Keep idle client connections alive across NATs; drop dead ones within a minute.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
  options.register(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.address, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const host = options.address.slice(0, options.address.lastIndexOf(':'));
  let stopped: Promise<void> | undefined;
  return {
    server,
    port,
    address: `${host}:${port}`,
    stop(graceMs = 5000) {
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return stopped;
    },
  };
}
