import path from 'node:path';

import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { SERVER_NODE_OPTIONS } from '@streamsvc/app-kit';
import { StreamingClient } from '@streamsvc/client';
import { MessageBuilder, MessageType, vchannelName } from '@streamsvc/message';
import { freePort, repoRoot, spawnTsChild, tempDir } from '@streamsvc/testkit';
import type { ManagedProcess, TempDir } from '@streamsvc/testkit';

import type { Scenario } from '../scenario.js';
import { benchCollection } from './bench-support.js';
import { RAW_SERVICE } from './e2e-raw-grpc.js';

type RawClient = InstanceType<ReturnType<typeof makeGenericClientConstructor>>;

const KiB = 1024;
const STREAMS = 8;
const WINDOW = 64;

interface Context {
  readonly dir: TempDir;
  readonly server: ManagedProcess;
  readonly raw: ManagedProcess;
  readonly rawPort: number;
  readonly endpoint: string;
  readonly httpPort: number;
  readonly clients: StreamingClient[];
  readonly vchannels: string[];
}

const payloadOf = (size: number): Uint8Array => new Uint8Array(size).map((_, i) => (i * 7919) & 0xff);
const pct = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Server CPU seconds and RSS from its /metrics. */
async function serverProcess(httpPort: number): Promise<{ cpu: number; rss: number }> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const read = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(text)?.[1] ?? NaN);
  return { cpu: read('streamsvc_process_cpu_seconds_total'), rss: read('streamsvc_process_resident_memory_bytes') };
}

/** `clients.length` × `window` appends in flight for `durationMs`; returns appends/s and their count. */
async function closedLoop(
  ctx: Context,
  size: number,
  window: number,
  durationMs: number,
): Promise<{ perSec: number; count: number }> {
  const payload = payloadOf(size);
  let count = 0;
  const end = performance.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    ctx.clients.flatMap((client, c) =>
      Array.from({ length: window }, async () => {
        const vchannel = ctx.vchannels[c % ctx.vchannels.length]!;
        while (performance.now() < end) {
          await client.append(MessageBuilder.data(payload).vchannel(vchannel).build());
          count++;
        }
      }),
    ),
  );
  return { perSec: count / ((performance.now() - start) / 1000), count };
}

/** Raw grpc-js client streams (same count and payload) against the baseline server: messages/s. */
async function rawGrpc(ctx: Context, size: number, durationMs: number): Promise<number> {
  const Raw = makeGenericClientConstructor(RAW_SERVICE, 'Raw');
  const payload = Buffer.from(payloadOf(size));
  const results = await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      const client = new Raw(`127.0.0.1:${ctx.rawPort}`, credentials.createInsecure()) as unknown as {
        push(cb: (e: Error | null, r?: Buffer) => void): {
          write(b: Buffer): boolean;
          end(): void;
          once(e: string, f: () => void): void;
        };
        close(): void;
      };
      const done = new Promise<number>((resolve, reject) => {
        const call = client.push((e, r) => (e ? reject(e) : resolve(Number(String(r)))));
        const end = performance.now() + durationMs;
        const pump = (): void => {
          while (performance.now() < end) {
            if (!call.write(payload)) return void call.once('drain', pump);
          }
          call.end();
        };
        pump();
      });
      const received = await done;
      client.close();
      return received;
    }),
  );
  return results.reduce((a, b) => a + b, 0) / (durationMs / 1000);
}

/**
 * Starts `send(i)` for i = 0, 1, … at `perSec` (paced per event-loop turn, as a program with its own
 * clock would) for `durationMs`; returns every send's latency (ms), sorted.
 */
async function openLoop(perSec: number, durationMs: number, send: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < durationMs) {
    const due = Math.floor(((performance.now() - start) / 1000) * perSec);
    for (; sent < due; sent++) {
      const t = performance.now();
      const p = send(sent)
        .then(() => void latencies.push(performance.now() - t))
        .finally(() => pending.delete(p));
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  return latencies.sort((a, b) => a - b);
}

/**
 * The same open loop over raw grpc-js bidi streams (one per client, each message answered with a few
 * bytes, nothing stored): what the transport alone does at that rate on this machine.
 */
async function rawGrpcOpenLoop(ctx: Context, size: number, perSec: number, durationMs: number): Promise<number[]> {
  const Raw = makeGenericClientConstructor(RAW_SERVICE, 'Raw');
  const payload = Buffer.from(payloadOf(size));
  const streams = ctx.clients.map(() => {
    const client = new Raw(`127.0.0.1:${ctx.rawPort}`, credentials.createInsecure()) as RawClient & {
      echo(): { write(b: Buffer): boolean; end(): void; on(e: 'data', f: () => void): void };
    };
    const call = client.echo();
    const waiting: (() => void)[] = [];
    call.on('data', () => waiting.shift()?.());
    return { client, call, waiting };
  });
  try {
    return await openLoop(perSec, durationMs, (i) => {
      const s = streams[i % streams.length]!;
      return new Promise<void>((resolve) => {
        s.waiting.push(resolve);
        s.call.write(payload);
      });
    });
  } finally {
    for (const s of streams) {
      s.call.end();
      s.client.close();
    }
  }
}

/**
 * End to end: the standalone server (Woodpecker on local disk, durable) in its own process, clients in
 * this one. Baseline: raw grpc-js client streams of the same payload against a bare server process.
 */
export const e2eScenario: Scenario<Context> = {
  description:
    'standalone server + clients in separate processes: latency, throughput, large messages, open loop, tail',
  async setup() {
    const dir = await tempDir('bench-e2e-');
    const grpcPort = await freePort();
    const httpPort = await freePort();
    const server = await spawnTsChild(path.join(repoRoot(), 'apps', 'standalone', 'src', 'main.ts'), {
      nodeArgs: SERVER_NODE_OPTIONS,
      args: [
        '--data-dir',
        path.join(dir.path, 'data'),
        '--listen',
        `127.0.0.1:${grpcPort}`,
        '--http',
        `127.0.0.1:${httpPort}`,
        '--log-level',
        'warn',
      ],
      logFile: path.join(dir.path, 'server.log'),
    });
    await server.waitReady(async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok, 60_000, 100);
    const raw = await spawnTsChild(path.join(repoRoot(), 'tools', 'bench', 'src', 'scenarios', 'e2e-raw-grpc.ts'), {
      logFile: path.join(dir.path, 'raw.log'),
      stdinPipe: true,
    });
    const rawPort = Number((await raw.nextLine((l) => l.startsWith('port='), 30_000)).slice(5));
    const endpoint = `127.0.0.1:${grpcPort}`;
    const clients = await Promise.all(Array.from({ length: STREAMS }, () => StreamingClient.connect({ endpoint })));
    const topology = await clients[0]!.waitReady({ signal: AbortSignal.timeout(30_000) });
    for (const c of clients) await c.waitReady({ signal: AbortSignal.timeout(30_000) });
    const collectionId = await clients[0]!.allocateTimestamp();
    const vchannels = topology.pchannels.map((p, i) => vchannelName(p, collectionId, i));
    await clients[0]!.broadcast(benchCollection('bench', collectionId).broadcast(vchannels).build());
    return { dir, server, raw, rawPort, endpoint, httpPort, clients, vchannels };
  },
  async repeat(ctx, { durationMs }) {
    const client = ctx.clients[0]!;
    const vchannel = ctx.vchannels[0]!;
    // 1. Idle durable append, window 1.
    const idle: number[] = [];
    const idlePayload = payloadOf(KiB);
    for (const end = performance.now() + durationMs; performance.now() < end;) {
      const t = performance.now();
      await client.append(MessageBuilder.data(idlePayload).vchannel(vchannel).build());
      idle.push(performance.now() - t);
    }
    idle.sort((a, b) => a - b);
    // 2. 8 streams × 64 in flight, 1 KiB, with the server's CPU per append.
    const before = await serverProcess(ctx.httpPort);
    const small = await closedLoop(ctx, KiB, WINDOW, durationMs);
    const after = await serverProcess(ctx.httpPort);
    const rawRate = await rawGrpc(ctx, KiB, durationMs);
    // 3. 64 KiB messages.
    const large = await closedLoop(ctx, 64 * KiB, 8, durationMs);
    // 4. Open loop at half the measured max, with a tail reader: append latency and delivery − ack.
    const acked = new Map<bigint, number>();
    const tail: number[] = [];
    const tailVchannel = vchannel;
    const sub = client.subscribe({ vchannel: tailVchannel, from: 'latest' });
    const reading = (async () => {
      for await (const m of sub) {
        if (m.type === MessageType.TimeTick) continue;
        const at = acked.get(m.timeTick);
        if (at !== undefined) tail.push(performance.now() - at);
      }
    })().catch(() => undefined);
    const rate = small.perSec / 2;
    const latencies = await openLoop(rate, durationMs, async (i) => {
      const c = i % ctx.clients.length;
      const vchannel = ctx.vchannels[c % ctx.vchannels.length]!;
      const r = await ctx.clients[c]!.append(MessageBuilder.data(idlePayload).vchannel(vchannel).build());
      // Only the tail reader's vchannel: a map entry per append would add its cost to the client's.
      if (vchannel === tailVchannel) acked.set(r.timeTick, performance.now());
    });
    await new Promise((r) => setTimeout(r, 300));
    await sub.close();
    await reading;
    tail.sort((a, b) => a - b);
    const rawOpen = await rawGrpcOpenLoop(ctx, KiB, rate, durationMs);
    return {
      metrics: {
        idleAckP50Ms: pct(idle, 50),
        idleAckP99Ms: pct(idle, 99),
        appendsPerSec1KiB: small.perSec,
        serverCpuUsPerAppend: ((after.cpu - before.cpu) * 1e6) / small.count,
        largeMBps: (large.perSec * 64 * KiB) / 1e6,
        openLoopAckP99Ms: pct(latencies, 99),
        tailP50MsAboveAck: Math.max(0, pct(tail, 50)),
        serverRssMiB: after.rss / 2 ** 20,
      },
      baseline: { rawGrpcClientStreamPerSec1KiB: rawRate, rawGrpcOpenLoopP99Ms: pct(rawOpen, 99) },
      ratio: { appendsVsRawGrpc: small.perSec / rawRate },
    };
  },
  async teardown(ctx) {
    await Promise.all(ctx.clients.map((c) => c.close()));
    await ctx.server.stop();
    await ctx.raw.stop();
    await ctx.dir.remove();
  },
  goals(metrics, ratio) {
    const m = (n: string): number => metrics[n]?.median ?? NaN;
    return {
      'idle append p50': { target: '≤ 0.45 ms', pass: m('idleAckP50Ms') <= 0.45 },
      'idle append p99': { target: '≤ 1.5 ms', pass: m('idleAckP99Ms') <= 1.5 },
      '8×64 in flight, 1 KiB': { target: '≥ 55,000 msg/s', pass: m('appendsPerSec1KiB') >= 55_000 },
      'vs raw grpc-js client streams': { target: '≥ 0.75×', pass: (ratio['appendsVsRawGrpc']?.median ?? 0) >= 0.75 },
      'server CPU per append': { target: '≤ 20 µs', pass: m('serverCpuUsPerAppend') <= 20 },
      '64 KiB messages': { target: '≥ 150 MB/s', pass: m('largeMBps') >= 150 },
      'open loop at 50%: ack p99': { target: '≤ 5 ms', pass: m('openLoopAckP99Ms') <= 5 },
      'tail delivery above ack, p50': { target: '≤ 0.1 ms', pass: m('tailP50MsAboveAck') <= 0.1 },
    };
  },
};
