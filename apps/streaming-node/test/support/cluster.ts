import path from 'node:path';

import { credentials, Metadata } from '@grpc/grpc-js';
import { StreamingCoordBalancerServiceClient } from '@streamsvc/proto';
import type { GetBalanceStatusResponse } from '@streamsvc/proto';
import { SERVER_NODE_OPTIONS } from '@streamsvc/app-kit';
import { spawnTsChild } from '@streamsvc/testkit';
import type { EtcdService, ManagedProcess } from '@streamsvc/testkit';

const COORD_MAIN = path.join(__dirname, '..', '..', '..', 'streaming-coord', 'src', 'main.ts');
const NODE_MAIN = path.join(__dirname, '..', '..', 'src', 'main.ts');

/** One server process of the test cluster. */
export interface ClusterProcess {
  readonly name: string;
  readonly kind: 'coord' | 'node';
  readonly grpc: string;
  readonly http: string;
  readonly proc: ManagedProcess;
}

export interface TestClusterOptions {
  readonly etcd: EtcdService;
  /** Logs and the cluster's WAL directory (`<root>-wal`, shared by its nodes) go here. */
  readonly dir: string;
  readonly pchannels: number;
  readonly sessionTtlMs: number;
  /** etcd prefix of this cluster (one per test). */
  readonly root: string;
  readonly logLevel?: string;
  /** The nodes' `--storage` (default `local`). */
  readonly storage?: 'local' | 'object-local';
  /** More flags for every node (e.g. `--wal kafka --kafka-brokers ...`). */
  readonly nodeArgs?: readonly string[];
  /** More flags for every coordinator (e.g. `--wal kafka`). */
  readonly coordArgs?: readonly string[];
}

async function healthy(http: string): Promise<boolean> {
  try {
    return (await fetch(`http://${http}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/**
 * A cluster of real processes on loopback: coordinators and streaming nodes started from their sources
 * (through tsx), sharing one etcd prefix and one Woodpecker directory. Stops everything in `close()`.
 */
export class TestCluster implements AsyncDisposable {
  readonly coords: ClusterProcess[] = [];
  readonly nodes: ClusterProcess[] = [];
  readonly #o: TestClusterOptions;
  #started = 0;

  constructor(options: TestClusterOptions) {
    this.#o = options;
  }

  /** The coordinators' gRPC addresses, comma-separated (what a client is given). */
  get endpoint(): string {
    return this.coords.map((c) => c.grpc).join(',');
  }

  #common(): string[] {
    return [
      '--etcd',
      this.#o.etcd.endpoints.join(','),
      '--root',
      this.#o.root,
      '--session-ttl-ms',
      String(this.#o.sessionTtlMs),
      '--log-level',
      this.#o.logLevel ?? 'info',
    ];
  }

  async #spawn(kind: 'coord' | 'node', args: string[]): Promise<ClusterProcess> {
    const name = `${this.#o.root}-${kind}-${++this.#started}`;
    // Port 0 for both, read back from the ready line: ports picked in advance can be taken meanwhile.
    const proc = await spawnTsChild(kind === 'coord' ? COORD_MAIN : NODE_MAIN, {
      name,
      nodeArgs: kind === 'node' ? SERVER_NODE_OPTIONS : [],
      args: [...this.#common(), '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', ...args],
      logFile: path.join(this.#o.dir, `${name}.log`),
    });
    const ready = kind === 'coord' ? 'streamsvc coordinator ready' : 'streamsvc node ready';
    const line = await Promise.race([
      proc.nextLine((l) => l.includes(`"msg":"${ready}"`), 60_000),
      proc.exited.then((exit) => {
        throw new Error(`${name} exited (${JSON.stringify(exit)}) before it was ready:\n${proc.tail()}`);
      }),
    ]);
    const { grpc, http } = JSON.parse(line) as { grpc: string; http: string };
    await proc.waitReady(() => healthy(http), 60_000, 100);
    const started: ClusterProcess = { name, kind, grpc, http, proc };
    (kind === 'coord' ? this.coords : this.nodes).push(started);
    return started;
  }

  startCoordinator(): Promise<ClusterProcess> {
    return this.#spawn('coord', [
      '--pchannels',
      String(this.#o.pchannels),
      '--cluster',
      'it',
      '--check-interval-ms',
      '1000',
      ...(this.#o.coordArgs ?? []),
    ]);
  }

  startNode(): Promise<ClusterProcess> {
    return this.#spawn('node', [
      '--storage',
      this.#o.storage ?? 'local',
      '--wal-dir',
      path.join(this.#o.dir, `${this.#o.root}-wal`),
      '--drain-timeout-ms',
      '15000',
      ...(this.#o.nodeArgs ?? []),
    ]);
  }

  /** The balance status from whichever coordinator is active (undefined when none answers). */
  async status(): Promise<GetBalanceStatusResponse | undefined> {
    for (const c of this.coords) {
      if (c.proc.hasExited) continue;
      const client = new StreamingCoordBalancerServiceClient(c.grpc, credentials.createInsecure());
      try {
        return await new Promise<GetBalanceStatusResponse>((resolve, reject) =>
          client.getBalanceStatus({}, new Metadata(), { deadline: Date.now() + 2000 }, (e, r) =>
            e ? reject(e) : resolve(r),
          ),
        );
      } catch {
        // a standby, or stopped
      } finally {
        client.close();
      }
    }
    return undefined;
  }

  /** Polls the status until `check` holds. @throws {Error} with the last status after `timeoutMs`. */
  async waitFor(
    check: (s: GetBalanceStatusResponse) => boolean,
    what: string,
    timeoutMs = 60_000,
  ): Promise<GetBalanceStatusResponse> {
    const deadline = Date.now() + timeoutMs;
    let last: GetBalanceStatusResponse | undefined;
    for (;;) {
      last = await this.status();
      if (last && check(last)) return last;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}; last status: ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Kills every process still running (tests stop gracefully themselves where that is the point). */
  async close(): Promise<void> {
    const all = [...this.nodes, ...this.coords].filter((p) => !p.proc.hasExited);
    for (const p of all) p.proc.signal('SIGKILL');
    await Promise.allSettled(all.map((p) => p.proc.exited));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** pchannel → owner's address, for pchannels ASSIGNED and not moving. */
export function owners(s: GetBalanceStatusResponse): Map<string, string> {
  return new Map(
    s.pchannels.filter((p) => p.state === 'ASSIGNED' && !p.moving).map((p) => [p.name, p.node?.address ?? '']),
  );
}

/** Number of settled pchannels per node address (nodes with none included). */
export function spread(s: GetBalanceStatusResponse): number[] {
  const counts = new Map(s.nodes.map((n) => [n.node?.address ?? '', 0]));
  for (const address of owners(s).values()) counts.set(address, (counts.get(address) ?? 0) + 1);
  return [...counts.values()].sort((a, b) => a - b);
}

/** Every pchannel ASSIGNED, not moving, on a live non-draining node. */
export function settled(s: GetBalanceStatusResponse, pchannels: number): boolean {
  const live = new Set(s.nodes.filter((n) => !n.draining).map((n) => n.node?.address));
  const o = owners(s);
  return o.size === pchannels && [...o.values()].every((a) => live.has(a));
}
