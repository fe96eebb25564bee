import { Server, ServerCredentials } from '@grpc/grpc-js';
import { decodeMessage, pchannelName, StreamingError, toPChannel, vchannelName } from '@streamsvc/message';
import type { ImmutableMessage, MutableMessage } from '@streamsvc/message';
import {
  StreamingCoordAssignmentServiceService,
  StreamingCoordBroadcastServiceService,
  StreamingNodeHandlerServiceService,
  TsoServiceService,
} from '@streamsvc/proto';
import type { AppendOutcome, AppendResult, FullAssignment } from '@streamsvc/proto';

import { FakeCoordinator } from './fake-coordinator.js';
import { FakeLog } from './fake-log.js';
import { FakeNode, wireError } from './fake-node.js';
import type { FakeStats, NodeEnv } from './fake-node.js';

/** Options of {@link FakeCluster.start}. */
export interface FakeClusterOptions {
  /** Number of pchannels `fake-dml_<i>`; default 2. */
  readonly pchannels?: number;
  /** Number of nodes; node 0 also serves the coordinator services. Default 1. */
  readonly nodes?: number;
  /** Messages per consume response; default 16. */
  readonly consumeBatchSize?: number;
  /** Delay before a produce request is processed; default random 0–2 ms (so answers reorder). */
  readonly produceDelayMs?: () => number;
}

interface Owner {
  readonly node: number;
  readonly term: bigint;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An in-process stand-in for a streamsvc cluster, speaking the real protocol over real gRPC on
 * 127.0.0.1: nodes serve Produce/Consume on in-memory logs (one per pchannel, shared by all nodes so a
 * moved pchannel keeps its data), node 0 also serves discovery, broadcast and TSO. Tests move
 * pchannels (term + 1, old streams fenced), drop vchannels, hold appends, break streams and restart
 * nodes on the same port.
 */
export class FakeCluster implements AsyncDisposable {
  readonly pchannels: readonly string[];
  readonly stats: FakeStats = {
    produceRequests: 0,
    producerCreates: [],
    consumerCreates: [],
    consumeMessagesWritten: 0,
  };
  readonly coordinator: FakeCoordinator;
  readonly #nodes: FakeNode[] = [];
  readonly #servers: (Server | undefined)[] = [];
  readonly #ports: number[] = [];
  readonly #owners = new Map<string, Owner>();
  readonly #logs = new Map<string, FakeLog>();
  readonly #dropped = new Set<string>();
  readonly #injected = new Map<string, StreamingError[]>();
  readonly #options: FakeClusterOptions;
  #held: Promise<void> | undefined;
  #tt = 1n << 40n;
  #global = 1n;
  #local = 0n;

  private constructor(options: FakeClusterOptions) {
    this.#options = options;
    this.pchannels = Array.from({ length: options.pchannels ?? 2 }, (_, i) => pchannelName('fake', i));
    const nodes = options.nodes ?? 1;
    this.pchannels.forEach((p, i) => {
      this.#owners.set(p, { node: i % nodes, term: 1n });
      this.#logs.set(p, new FakeLog(p, () => this.#tso()));
    });
    this.coordinator = new FakeCoordinator({
      snapshot: () => this.#snapshot(),
      appendDirect: (m) => this.#appendDirect(m),
      tso: () => this.#tso(),
    });
    for (let i = 0; i < nodes; i++) this.#nodes.push(new FakeNode(i, this.#env()));
  }

  /** Starts every node on a random port of 127.0.0.1. */
  static async start(options: FakeClusterOptions = {}): Promise<FakeCluster> {
    const cluster = new FakeCluster(options);
    for (let i = 0; i < cluster.#nodes.length; i++) await cluster.#startServer(i, 0);
    return cluster;
  }

  /** `host:port` of the coordinator (node 0). */
  get endpoint(): string {
    return this.address(0);
  }

  address(node: number): string {
    return `127.0.0.1:${this.#ports[node]}`;
  }

  /** A vchannel on pchannel `i`. */
  vchannel(i: number, collectionId = 1n, shard = 0): string {
    return vchannelName(this.pchannels[i]!, collectionId, shard);
  }

  owner(pchannel: string): Owner | undefined {
    return this.#owners.get(pchannel);
  }

  log(pchannel: string): FakeLog {
    return this.#logs.get(pchannel)!;
  }

  /** Every stored message of `vchannel`, in log order (txn parts included). */
  stored(vchannel: string): ImmutableMessage[] {
    return this.log(toPChannel(vchannel)).entries.filter((m) => m.vchannel === vchannel);
  }

  /**
   * Moves `pchannel` to `toNode` under term + 1: the pchannel disappears from the topology, streams on
   * the old owner are closed with CHANNEL_FENCED, and after `gapMs` the new assignment is published
   * (unless `publish` is false: then only the next {@link publish} tells clients).
   */
  async move(pchannel: string, toNode: number, options: { gapMs?: number; publish?: boolean } = {}): Promise<void> {
    const old = this.#owners.get(pchannel)!;
    const publish = options.publish ?? true;
    this.#owners.delete(pchannel);
    this.#local++;
    if (publish) this.coordinator.publish();
    this.#nodes[old.node]!.fence(pchannel, new StreamingError('CHANNEL_FENCED', `${pchannel} moved to another node`));
    if ((options.gapMs ?? 0) > 0) await sleep(options.gapMs!);
    this.#owners.set(pchannel, { node: toNode, term: old.term + 1n });
    this.#local++;
    if (publish) this.coordinator.publish();
  }

  /** Sends the current topology to every discovery stream. */
  publish(): void {
    this.coordinator.publish();
  }

  /** Appends to `vchannel` now fail with VCHANNEL_DROPPED. */
  dropVChannel(vchannel: string): void {
    this.#dropped.add(vchannel);
  }

  /** The next appends to `pchannel` fail with these errors, one each. */
  injectErrors(pchannel: string, errors: StreamingError[]): void {
    this.#injected.set(pchannel, [...(this.#injected.get(pchannel) ?? []), ...errors]);
  }

  /** Appends wait until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.#held = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.#held = undefined;
      release();
    };
  }

  /** Appends a TimeTick to `pchannel`. */
  tick(pchannel: string): void {
    this.log(pchannel).tick(this.#owners.get(pchannel)?.term ?? 1n);
  }

  /** Fails streams (all nodes, or one) with gRPC UNAVAILABLE. */
  breakStreams(node?: number, pchannel?: string): void {
    this.#nodes.forEach((n, i) => {
      if (node === undefined || node === i) n.breakStreams(pchannel);
    });
  }

  /** Kills node `i`'s server; `downMs` later starts it again on the same port (a new coordinator incarnation for node 0). */
  async restartNode(i: number, downMs: number): Promise<void> {
    this.#servers[i]?.forceShutdown();
    this.#servers[i] = undefined;
    await sleep(downMs);
    if (i === 0) {
      this.#global++;
      this.#local = 0n;
    }
    await this.#startServer(i, this.#ports[i]!);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    for (const s of this.#servers) s?.forceShutdown();
    this.#servers.length = 0;
    await sleep(0);
  }

  async #startServer(i: number, port: number): Promise<void> {
    const server = new Server();
    server.addService(StreamingNodeHandlerServiceService, this.#nodes[i]!.service());
    if (i === 0) {
      server.addService(StreamingCoordAssignmentServiceService, this.coordinator.assignmentService());
      server.addService(StreamingCoordBroadcastServiceService, this.coordinator.broadcastService());
      server.addService(TsoServiceService, this.coordinator.tsoService());
    }
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    this.#ports[i] = bound;
    this.#servers[i] = server;
  }

  #env(): NodeEnv {
    return {
      owner: (p) => this.#owners.get(p),
      log: (p) => this.#logs.get(p),
      append: (node, p, term, bytes) => this.#append(node, p, term, bytes),
      stats: this.stats,
      produceDelayMs: this.#options.produceDelayMs ?? (() => Math.floor(Math.random() * 3)),
      consumeBatchSize: this.#options.consumeBatchSize ?? 16,
    };
  }

  async #append(node: number, pchannel: string, term: bigint, bytes: Buffer): Promise<AppendOutcome> {
    while (this.#held !== undefined) await this.#held;
    const owner = this.#owners.get(pchannel);
    if (owner === undefined || owner.node !== node || owner.term !== term) {
      return failed(new StreamingError('CHANNEL_FENCED', `node ${node} no longer owns ${pchannel} at term ${term}`));
    }
    const injected = this.#injected.get(pchannel)?.shift();
    if (injected !== undefined) return failed(injected);
    try {
      const m = decodeMessage(bytes);
      if (this.#dropped.has(m.vchannel!)) {
        throw new StreamingError('VCHANNEL_DROPPED', `vchannel ${m.vchannel} was dropped; nothing may be appended`);
      }
      return { outcome: { $case: 'ok', ok: this.log(pchannel).append(m, term) } };
    } catch (e) {
      return failed(StreamingError.is(e) ? e : new StreamingError('INVALID_ARGUMENT', String(e)));
    }
  }

  #appendDirect(m: MutableMessage): AppendResult {
    const pchannel = toPChannel(m.vchannel!);
    return this.log(pchannel).append(m, this.#owners.get(pchannel)?.term ?? 1n);
  }

  #tso(): bigint {
    return this.#tt++;
  }

  #snapshot(): FullAssignment {
    const byNode = new Map<number, { name: string; term: bigint }[]>();
    for (const [name, o] of this.#owners) byNode.set(o.node, [...(byNode.get(o.node) ?? []), { name, term: o.term }]);
    return {
      version: { global: this.#global, local: this.#local },
      assignments: [...byNode].map(([node, pchannels]) => ({
        node: { serverId: BigInt(node + 1), address: this.address(node) },
        pchannels,
      })),
      pchannels: [...this.pchannels],
    };
  }
}

function failed(e: StreamingError): AppendOutcome {
  return { outcome: { $case: 'error', error: wireError(e) } };
}
