/**
 * @streamsvc/node — the streaming node: the WAL manager (each pchannel converges to the term the
 * coordinator assigned) and the gRPC services Produce, Consume, Manager and health.
 *
 * ```ts
 * const manager = new WalManager({ opener, tso });
 * const node = new StreamingNode({ manager, walName: 'woodpecker', idCodec, node: () => info });
 * const grpc = await startGrpcServer({ address: '127.0.0.1:19540', register: (s) => node.register(s) });
 * await manager.assign('by-dev-dml_0', 1n);
 * ```
 */
export { WalManager } from './wal-manager.js';
export { StreamingNode, startGrpcServer } from './streaming-node.js';
export { toErrorInfo } from './wire-errors.js';
export { failure as grpcFailure } from './manager-service.js';

export type { WalManagerOptions, WalState } from './wal-manager.js';
export type { StreamingNodeOptions, GrpcServerOptions, GrpcServerHandle } from './streaming-node.js';
