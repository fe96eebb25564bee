import { credentials, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { StreamingError, stripStreamingPrefix } from '@streamsvc/message';
import { readStreamingErrorMetadata, StreamingNodeManagerServiceClient } from '@streamsvc/proto';
import type { CollectStatusResponse } from '@streamsvc/proto';

import type { NodeRef } from './pchannel-meta.js';

/** One WAL as a node reports it. */
export interface NodeWalStatus {
  readonly pchannel: string;
  readonly term: bigint;
  /** `opening`, `open`, `closing` or `fenced`. */
  readonly state: string;
}

/**
 * How the coordinator commands streaming nodes (the Manager service). A port, so the balancer is
 * tested against in-process fakes and runs against gRPC in a cluster.
 */
export interface NodeManagerPort {
  /**
   * Opens `pchannel` under `term` on `node`; resolves when it accepts appends.
   * @throws {StreamingError} IGNORED_OPERATION (a newer term was already requested there), ON_SHUTDOWN,
   *   CHANNEL_FENCED, INNER, or UNKNOWN for transport failures (node unreachable).
   * Abort: stops waiting; the open may still complete on the node.
   */
  assign(node: NodeRef, pchannel: string, term: bigint, options: { signal?: AbortSignal }): Promise<void>;
  /** Closes `pchannel` if open under `term` or older (gracefully). Same errors as assign. */
  remove(node: NodeRef, pchannel: string, term: bigint, options: { signal?: AbortSignal }): Promise<void>;
  /** What `node` holds. */
  status(node: NodeRef, options: { signal?: AbortSignal }): Promise<readonly NodeWalStatus[]>;
  close(): void;
}

/** The gRPC adapter of {@link NodeManagerPort}: one client per node address, calls bounded by `timeoutMs`. */
export class GrpcNodeManager implements NodeManagerPort {
  readonly #clients = new Map<string, StreamingNodeManagerServiceClient>();
  readonly #timeoutMs: number;

  constructor(options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  assign(node: NodeRef, pchannel: string, term: bigint, options: { signal?: AbortSignal }): Promise<void> {
    return this.#call(node, options.signal, (c, deadline, cb) =>
      c.assign({ pchannel: { name: pchannel, term } }, new Metadata(), { deadline }, cb),
    ).then(() => undefined);
  }

  remove(node: NodeRef, pchannel: string, term: bigint, options: { signal?: AbortSignal }): Promise<void> {
    return this.#call(node, options.signal, (c, deadline, cb) =>
      c.remove({ pchannel: { name: pchannel, term } }, new Metadata(), { deadline }, cb),
    ).then(() => undefined);
  }

  async status(node: NodeRef, options: { signal?: AbortSignal }): Promise<readonly NodeWalStatus[]> {
    const r = await this.#call<CollectStatusResponse>(node, options.signal, (c, deadline, cb) =>
      c.collectStatus({}, new Metadata(), { deadline }, cb),
    );
    return r.wals.map((w) => ({ pchannel: w.pchannel?.name ?? '', term: w.pchannel?.term ?? 0n, state: w.state }));
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }

  #client(address: string): StreamingNodeManagerServiceClient {
    let c = this.#clients.get(address);
    if (!c) {
      c = new StreamingNodeManagerServiceClient(address, credentials.createInsecure(), {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1_000,
      });
      this.#clients.set(address, c);
    }
    return c;
  }

  #call<R>(
    node: NodeRef,
    signal: AbortSignal | undefined,
    invoke: (
      c: StreamingNodeManagerServiceClient,
      deadline: Date,
      cb: (e: ServiceError | null, r: R) => void,
    ) => { cancel(): void },
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => call.cancel();
      const call = invoke(this.#client(node.address), new Date(Date.now() + this.#timeoutMs), (e, r) => {
        signal?.removeEventListener('abort', onAbort);
        if (e === null) return resolve(r);
        if (signal?.aborted) return reject(signal.reason);
        reject(fromServiceError(e, node));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The StreamingError a node attached to the status, else UNKNOWN naming the transport failure. */
function fromServiceError(e: ServiceError, node: NodeRef): StreamingError {
  const info = readStreamingErrorMetadata(e.metadata);
  if (info) return new StreamingError(StreamingError.codeOfNumber(info.code), stripStreamingPrefix(info.message));
  const what = e.code === GrpcStatus.UNAVAILABLE ? 'unreachable' : `failed (${GrpcStatus[e.code] ?? e.code})`;
  return new StreamingError('UNKNOWN', `node ${node.serverId} at ${node.address} ${what}: ${e.details}`, {
    cause: e,
  });
}
