import path from 'node:path';

import { credentials, Metadata } from '@grpc/grpc-js';
import { SERVER_NODE_OPTIONS } from '@streamsvc/app-kit';
import { StreamingClient } from '@streamsvc/client';
import { MessageBuilder, toPChannel, vchannelName } from '@streamsvc/message';
import { EtcdMetaKv } from '@streamsvc/metastore';
import { StreamingCoordBalancerServiceClient } from '@streamsvc/proto';
import type { GetBalanceStatusResponse } from '@streamsvc/proto';
import { freePort, repoRoot, spawnTsChild, startEtcd, tempDir } from '@streamsvc/testkit';
import type { EtcdService, ManagedProcess, TempDir } from '@streamsvc/testkit';

import type { Scenario } from '../scenario.js';
import { benchCollection } from './bench-support.js';

/** Session TTL of every node (the setting for the unplanned target). */
const TTL_MS = 3000;
const NODES = 3;
/** 2/1/1 on three nodes: a pchannel can move from the node with two to one with one and stay there. */
const PCHANNELS = 4;
/** Unplanned (kill -9) and graceful (MovePChannel) trials per repeat. */
const TRIALS = 4;
const ROOT = 'bench-failover';

interface Node {
  readonly grpc: string;
  readonly proc: ManagedProcess;
}

interface Context {
  readonly dir: TempDir;
  readonly etcd: EtcdService;
  readonly kv: EtcdMetaKv;
  readonly coord: ManagedProcess;
  readonly coordAddress: string;
  readonly balancer: StreamingCoordBalancerServiceClient;
  readonly nodes: Node[];
  readonly client: StreamingClient;
  readonly vchannels: string[];
  started: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

async function healthy(http: string): Promise<boolean> {
  try {
    return (await fetch(`http://${http}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

async function spawn(ctx: { dir: TempDir; etcd: EtcdService; started: number }, app: string, args: string[]) {
  const grpcPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === grpcPort) httpPort = await freePort(); // both were free, not yet bound: may repeat
  const grpc = `127.0.0.1:${grpcPort}`;
  const http = `127.0.0.1:${httpPort}`;
  const common = ['--etcd', ctx.etcd.endpoints.join(','), '--root', ROOT, '--session-ttl-ms', String(TTL_MS)];
  const proc = await spawnTsChild(path.join(repoRoot(), 'apps', app, 'src', 'main.ts'), {
    name: `${app}-${++ctx.started}`,
    nodeArgs: app === 'streaming-node' ? SERVER_NODE_OPTIONS : [],
    args: [
      ...common,
      '--listen',
      grpc,
      '--http',
      http,
      '--log-level',
      process.env.STREAMSVC_BENCH_LOG_LEVEL ?? 'warn',
      ...args,
    ],
    logFile: path.join(ctx.dir.path, `${app}-${ctx.started}.log`),
  });
  await proc.waitReady(() => healthy(http), 60_000, 100);
  return { grpc, proc };
}

const startNode = (ctx: Context): Promise<Node> =>
  spawn(ctx, 'streaming-node', ['--wal-dir', path.join(ctx.dir.path, 'wal')]);

function status(ctx: Context): Promise<GetBalanceStatusResponse> {
  return new Promise((resolve, reject) =>
    ctx.balancer.getBalanceStatus({}, new Metadata(), { deadline: Date.now() + 2000 }, (e, r) =>
      e ? reject(e) : resolve(r),
    ),
  );
}

async function settled(ctx: Context): Promise<GetBalanceStatusResponse> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(50)) {
    const s = await status(ctx).catch(() => undefined);
    const live = new Set(s?.nodes.map((n) => n.node?.address));
    const placed = s?.pchannels.filter((p) => p.state === 'ASSIGNED' && !p.moving && live.has(p.node?.address));
    const counts = s?.nodes.map((n) => placed!.filter((p) => p.node?.address === n.node?.address).length) ?? [];
    const even = Math.max(...counts) - Math.min(...counts) <= 1;
    if (s && s.nodes.length === NODES && placed?.length === PCHANNELS && even) return s;
  }
  throw new Error('the cluster did not settle within 60 s');
}

/**
 * One writer per vchannel, window 1, for the whole trial; records every ack's wall time. The longest
 * gap between two acks of a vchannel around an event is that vchannel's unavailability.
 */
function writers(ctx: Context, stop: AbortSignal): { acks: number[][]; errors: unknown[]; done: Promise<void> } {
  const acks = ctx.vchannels.map(() => [] as number[]);
  const errors: unknown[] = [];
  const payload = new Uint8Array(1024);
  const done = Promise.all(
    ctx.vchannels.map(async (vchannel, i) => {
      for (let n = 0; !stop.aborted && n < 1_000_000; n++) {
        try {
          await ctx.client.append(MessageBuilder.data(payload).vchannel(vchannel).build(), { signal: stop });
          acks[i]!.push(performance.now());
        } catch (e) {
          if (!stop.aborted) errors.push(e);
        }
      }
    }),
  ).then(() => undefined);
  return { acks, errors, done };
}

/** Last ack at or before `t` → first ack after it, on one vchannel. */
function gapAround(acks: readonly number[], t: number): number {
  const after = acks.findIndex((a) => a > t);
  if (after <= 0) return NaN;
  return acks[after]! - acks[after - 1]!;
}

/**
 * Failover of a 1-coordinator, 3-node cluster (etcd from testkit, every server its own process, this
 * process the client): per trial, a writer per pchannel appends continuously (window 1, 1 KiB).
 * Unplanned: kill -9 of the node owning pchannel 0; unavailability = last ack before the kill → first
 * ack after, on that pchannel; baseline = how long etcd took to expire the killed node's session
 * (kill → its key gone, polled every 20 ms), the floor any lease-based detection has.
 * Graceful: MovePChannel of a pchannel from the node holding two to one holding one (the layout stays
 * even, so the balancer leaves it there); unavailability = the longest ack gap on it during the move;
 * baseline = the append p50 measured just before.
 */
export const failoverScenario: Scenario<Context> = {
  description: `cluster failover: kill -9 of a node (session TTL ${TTL_MS} ms) and a graceful pchannel move, ${TRIALS} of each per repeat`,
  async setup() {
    const dir = await tempDir('bench-failover-');
    const etcd = await startEtcd();
    const base = { dir, etcd, started: 0 };
    const coord = await spawn(base, 'streaming-coord', [
      '--pchannels',
      String(PCHANNELS),
      '--check-interval-ms',
      '1000',
    ]);
    const kv = await EtcdMetaKv.connect({ endpoints: etcd.endpoints, namespace: `${ROOT}/` });
    const balancer = new StreamingCoordBalancerServiceClient(coord.grpc, credentials.createInsecure());
    const ctx: Context = {
      ...base,
      kv,
      coord: coord.proc,
      coordAddress: coord.grpc,
      balancer,
      nodes: [],
      client: await StreamingClient.connect({ endpoint: coord.grpc }),
      vchannels: [],
    };
    for (let i = 0; i < NODES; i++) ctx.nodes.push(await startNode(ctx));
    await settled(ctx);
    const topology = await ctx.client.waitReady({ signal: AbortSignal.timeout(30_000) });
    const collectionId = await ctx.client.allocateTimestamp();
    ctx.vchannels.push(...topology.pchannels.map((p, i) => vchannelName(p, collectionId, i)));
    await ctx.client.broadcast(benchCollection('failover', collectionId).broadcast(ctx.vchannels).build());
    return ctx;
  },
  async repeat(ctx) {
    const unplanned: number[] = [];
    const expiry: number[] = [];
    const graceful: number[] = [];
    const appendP50: number[] = [];
    const errors: unknown[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      // Unplanned: kill -9 the owner of pchannel 0.
      let s = await settled(ctx);
      const p0 = toPChannel(ctx.vchannels[0]!);
      const ownerAddress = s.pchannels.find((p) => p.name === p0)!.node!.address;
      const serverId = s.nodes.find((n) => n.node?.address === ownerAddress)!.node!.serverId;
      const victim = ctx.nodes.find((n) => n.grpc === ownerAddress)!;
      const stop = new AbortController();
      const load = writers(ctx, stop.signal);
      await sleep(500);
      const killedAt = performance.now();
      victim.proc.signal('SIGKILL');
      await victim.proc.exited;
      const sessionKey = `cluster/session/node/${serverId}`;
      while ((await ctx.kv.get(sessionKey)) !== undefined && performance.now() - killedAt < 60_000) await sleep(20);
      expiry.push(performance.now() - killedAt);
      for (const deadline = performance.now() + 60_000; performance.now() < deadline; await sleep(20)) {
        if (load.acks[0]!.some((a) => a > killedAt)) break;
      }
      await sleep(200);
      stop.abort();
      await load.done;
      errors.push(...load.errors);
      unplanned.push(gapAround(load.acks[0]!, killedAt));
      ctx.nodes.splice(ctx.nodes.indexOf(victim), 1);
      ctx.nodes.push(await startNode(ctx));

      // Graceful: move a pchannel from the node holding two to one holding one (the spread stays even,
      // so the balancer keeps it there).
      s = await settled(ctx);
      const held = new Map<string, string[]>(s.nodes.map((n) => [n.node!.address, []]));
      for (const p of s.pchannels) held.get(p.node!.address)?.push(p.name);
      const [, movable] = [...held.entries()].find(([, names]) => names.length === 2)!;
      const [lightAddress] = [...held.entries()].find(([, names]) => names.length === 1)!;
      const p1 = movable[0]!;
      const v1 = ctx.vchannels.findIndex((v) => toPChannel(v) === p1);
      const target = s.nodes.find((n) => n.node?.address === lightAddress)!.node!.serverId;
      const stopMove = new AbortController();
      const moveLoad = writers(ctx, stopMove.signal);
      await sleep(500);
      const movedAt = performance.now();
      const before = moveLoad.acks[v1]!.filter((a) => a > movedAt - 400);
      const gaps = before.slice(1).map((a, k) => a - before[k]!);
      appendP50.push(pct(gaps, 50));
      await new Promise<void>((resolve, reject) =>
        ctx.balancer.movePChannel(
          { pchannel: p1, serverId: target },
          new Metadata(),
          { deadline: Date.now() + 30_000 },
          (e) => (e ? reject(e) : resolve()),
        ),
      );
      const movedUntil = performance.now();
      await sleep(300);
      stopMove.abort();
      await moveLoad.done;
      errors.push(...moveLoad.errors);
      const during = moveLoad.acks[v1]!.filter((a) => a >= movedAt - 50);
      const lastBefore = moveLoad.acks[v1]!.filter((a) => a <= movedAt).at(-1) ?? movedAt;
      const window = [lastBefore, ...during.filter((a) => a <= movedUntil + 300)];
      graceful.push(Math.max(0, ...window.slice(1).map((a, k) => a - window[k]!)));
    }
    if (errors.length > 0) process.stdout.write(`failover: ${errors.length} append errors surfaced to writers\n`);
    return {
      metrics: {
        unplannedMedianMs: pct(unplanned, 50),
        unplannedWorstMs: Math.max(...unplanned),
        gracefulMedianMs: pct(graceful, 50),
        gracefulWorstMs: Math.max(...graceful),
        writerErrors: errors.length,
      },
      baseline: { sessionExpiryMedianMs: pct(expiry, 50), appendP50Ms: pct(appendP50, 50) },
      ratio: {
        unplannedVsSessionExpiry: pct(unplanned, 50) / pct(expiry, 50),
        gracefulVsAppend: pct(graceful, 50) / pct(appendP50, 50),
      },
    };
  },
  async teardown(ctx) {
    await ctx.client.close();
    ctx.balancer.close();
    await ctx.kv.close();
    for (const n of ctx.nodes) n.proc.signal('SIGKILL');
    await Promise.all(ctx.nodes.map((n) => n.proc.exited));
    await ctx.coord.stop();
    await ctx.etcd.stop();
    if (process.env.STREAMSVC_KEEP_TEST_DIRS) process.stdout.write(`kept ${ctx.dir.path}\n`);
    else await ctx.dir.remove();
  },
  goals(metrics) {
    // The worst trial of every repeat (max over ≥ 10 trials bounds their p99 from above).
    const worst = (n: string): number => metrics[n]?.max ?? NaN;
    return {
      [`unplanned failover, worst of all trials (≥ p99), TTL ${TTL_MS} ms`]: {
        target: `≤ ${TTL_MS + 1000} ms`,
        pass: worst('unplannedWorstMs') <= TTL_MS + 1000,
      },
      'graceful move, worst of all trials': { target: '≤ 300 ms', pass: worst('gracefulWorstMs') <= 300 },
      'errors surfaced to writers': { target: '0', pass: worst('writerErrors') === 0 },
    };
  },
};
