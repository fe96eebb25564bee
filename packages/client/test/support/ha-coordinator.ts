import { createServer } from 'node:net';

import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerDuplexStream, ServerErrorResponse } from '@grpc/grpc-js';
import { STREAMING_ERROR_NUMBERS } from '@streamsvc/message';
import {
  StreamingCoordAssignmentServiceService,
  StreamingCoordBroadcastServiceService,
  streamingErrorMetadata,
  TsoServiceService,
} from '@streamsvc/proto';
import type {
  AllocTimestampResponse,
  AssignmentDiscoverRequest,
  AssignmentDiscoverResponse,
  BroadcastResponse,
  FullAssignment,
} from '@streamsvc/proto';

type DiscoverCall = ServerDuplexStream<AssignmentDiscoverRequest, AssignmentDiscoverResponse>;

/** The RPCs of a coordinator, as counted by {@link HaCoordinator}. */
export type CoordinatorRpc = 'discover' | 'broadcast' | 'tso';

/** How an active coordinator that steps down ends the discovery streams it has open. */
export type StepDown = 'close' | 'error' | 'keep';

/** The pchannels every {@link HaCoordinator} serves. */
export const HA_PCHANNELS = ['ha-dml_0', 'ha-dml_1'] as const;

/** Where the topology says the pchannels live (nothing listens there: these tests never append). */
export const HA_NODE = { serverId: 7n, address: '127.0.0.1:9' } as const;

/**
 * One of the coordinators of a cluster with a standby, in process on 127.0.0.1: while active it serves
 * discovery (a topology under version `{global, 0}`), Broadcast and AllocTimestamp; while standby it
 * answers each of them with FAILED_PRECONDITION carrying COORDINATOR_NOT_ACTIVE in the trailing
 * metadata, like the real standby. Tests flip the role with {@link activate} and {@link stepDown}.
 */
export class HaCoordinator implements AsyncDisposable {
  readonly endpoint: string;
  /** RPCs answered as the active coordinator. */
  readonly served: Record<CoordinatorRpc, number> = { discover: 0, broadcast: 0, tso: 0 };
  /** RPCs refused as a standby, with the `Date.now()` of each refusal. */
  readonly refused: Record<CoordinatorRpc, number[]> = { discover: [], broadcast: [], tso: [] };
  readonly #server: Server;
  readonly #streams = new Set<DiscoverCall>();
  #global: bigint | undefined;
  #tso = 1n << 40n;
  #broadcastId = 1n;

  private constructor(server: Server, port: number, global: bigint | undefined) {
    this.#server = server;
    this.endpoint = `127.0.0.1:${port}`;
    this.#global = global;
  }

  /** Starts a coordinator on a random port; active with topology version `{activeGlobal, 0}` if given, else standby. */
  static async start(activeGlobal?: bigint): Promise<HaCoordinator> {
    const server = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const coordinator = new HaCoordinator(server, port, activeGlobal);
    coordinator.#register();
    return coordinator;
  }

  get active(): boolean {
    return this.#global !== undefined;
  }

  /** Discovery streams open. */
  get discoveryStreams(): number {
    return this.#streams.size;
  }

  /** Becomes the active coordinator, serving the topology under version `{global, 0}`. */
  activate(global: bigint): void {
    this.#global = global;
  }

  /**
   * Becomes a standby. Open discovery streams end as `how` says: `close {}` then OK (a graceful step
   * down), a COORDINATOR_NOT_ACTIVE error, or not at all (`keep`: the client only learns from a call).
   */
  stepDown(how: StepDown): void {
    this.#global = undefined;
    if (how === 'keep') return;
    for (const call of [...this.#streams]) {
      this.#streams.delete(call);
      if (how === 'close') {
        call.write({ response: { $case: 'close', close: {} } });
        call.end();
      } else {
        call.emit('error', notActive());
      }
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    this.#server.forceShutdown();
    await new Promise((resolve) => setImmediate(resolve));
  }

  #snapshot(global: bigint): FullAssignment {
    return {
      version: { global, local: 0n },
      assignments: [{ node: { ...HA_NODE }, pchannels: HA_PCHANNELS.map((name) => ({ name, term: global })) }],
      pchannels: [...HA_PCHANNELS],
    };
  }

  #register(): void {
    this.#server.addService(StreamingCoordAssignmentServiceService, {
      assignmentDiscover: (call: DiscoverCall) => {
        if (this.#global === undefined) {
          this.refused.discover.push(Date.now());
          call.emit('error', notActive());
          return;
        }
        this.served.discover++;
        this.#streams.add(call);
        call.write({ response: { $case: 'fullAssignment', fullAssignment: this.#snapshot(this.#global) } });
        const drop = (): void => {
          this.#streams.delete(call);
        };
        call.on('data', (req: AssignmentDiscoverRequest) => {
          if (req.request?.$case !== 'close') return;
          drop();
          call.write({ response: { $case: 'close', close: {} } });
          call.end();
        });
        call.on('end', () => {
          drop();
          if (!call.writableEnded) call.end();
        });
        call.on('error', drop);
        call.on('cancelled', drop);
      },
    });
    this.#server.addService(StreamingCoordBroadcastServiceService, {
      broadcast: (_call: unknown, cb: sendUnaryData<BroadcastResponse>) => {
        if (this.#global === undefined) {
          this.refused.broadcast.push(Date.now());
          cb(notActive());
          return;
        }
        this.served.broadcast++;
        cb(null, { broadcastId: this.#broadcastId++, results: new Map(), walName: 'memory' });
      },
    });
    this.#server.addService(TsoServiceService, {
      allocTimestamp: (_call: unknown, cb: sendUnaryData<AllocTimestampResponse>) => {
        if (this.#global === undefined) {
          this.refused.tso.push(Date.now());
          cb(notActive());
          return;
        }
        this.served.tso++;
        cb(null, { first: this.#tso++, count: 1 });
      },
    });
  }
}

/** The status a standby answers with: FAILED_PRECONDITION, StreamingErrorInfo COORDINATOR_NOT_ACTIVE. */
function notActive(): ServerErrorResponse {
  const message = '[streaming] this coordinator is a standby; ask the active one';
  return {
    name: 'Error',
    message,
    code: status.FAILED_PRECONDITION,
    details: message,
    metadata: streamingErrorMetadata({
      code: STREAMING_ERROR_NUMBERS.COORDINATOR_NOT_ACTIVE,
      message,
      retriable: true,
    }),
  };
}

/** A `host:port` on 127.0.0.1 that nothing listens on (a port just bound and released). */
export async function closedEndpoint(): Promise<string> {
  const server = createServer();
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}
