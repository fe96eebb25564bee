import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

import { SERVER_NODE_OPTIONS } from '@streamsvc/app-kit';
import { StreamingClient } from '@streamsvc/client';
import { MessageBuilder, vchannelName } from '@streamsvc/message';
import { freePort, ManagedProcess, repoRoot, tempDir } from '@streamsvc/testkit';
import type { TempDir } from '@streamsvc/testkit';

import type { Scenario } from '../scenario.js';
import { benchCollection } from './bench-support.js';

const KiB = 1024;
const CLIENTS = 4;
const SAMPLE_MS = 5_000;

interface Context {
  readonly dir: TempDir;
  readonly server: ManagedProcess;
  readonly httpPort: number;
  readonly clients: StreamingClient[];
  readonly vchannels: string[];
}

/** Server RSS, V8 heap in use, V8 heap committed and memory outside the heap (bytes), from its /metrics. */
async function serverMemory(
  httpPort: number,
): Promise<{ rss: number; heap: number; heapTotal: number; external: number }> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const read = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rss: read('streamsvc_process_resident_memory_bytes'),
    heap: read('streamsvc_nodejs_heap_size_used_bytes'),
    heapTotal: read('streamsvc_nodejs_heap_size_total_bytes'),
    external: read('streamsvc_nodejs_external_memory_bytes'),
  };
}

/** Least-squares slope of `ys` over `xs`. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** `clients` × `window` appends in flight for `ms`: appends/s. */
async function closedLoop(ctx: Context, window: number, ms: number): Promise<number> {
  const payload = new Uint8Array(KiB);
  let count = 0;
  const end = performance.now() + ms;
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
  return count / (ms / 1000);
}

/**
 * Memory under sustained load: the standalone server (built, its own process, default settings: 16 MiB
 * write-ahead buffer) takes 1 KiB appends at half the rate it managed in a 3 s closed loop, for
 * `--duration-ms` (300 000 for the five minutes), with a tail reader on every vchannel. Server
 * RSS and heap are sampled every 5 s; the trend is the least-squares slope over the second half.
 * Baseline: the server's RSS when idle right after start.
 */
export const soakScenario: Scenario<Context> = {
  description: 'standalone server RSS under 50 % load for --duration-ms (use 300000), sampled every 5 s',
  async setup() {
    const dir = await tempDir('bench-soak-');
    const grpcPort = await freePort();
    const httpPort = await freePort();
    // The deployed artifact, not the sources through tsx (whose transpiler stays resident): build it first.
    const tsc = createRequire(path.join(repoRoot(), 'package.json')).resolve('typescript/bin/tsc');
    const app = path.join(repoRoot(), 'apps', 'standalone');
    const built = spawnSync(process.execPath, [tsc, '-b', path.join(app, 'tsconfig.lib.json')], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error(`building apps/standalone failed (tsc exit ${built.status})`);
    const server = await ManagedProcess.spawn({
      name: 'standalone',
      command: process.execPath,
      args: [
        ...SERVER_NODE_OPTIONS,
        path.join(app, 'dist', 'main.js'),
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
    const endpoint = `127.0.0.1:${grpcPort}`;
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => StreamingClient.connect({ endpoint })));
    const topology = await clients[0]!.waitReady({ signal: AbortSignal.timeout(30_000) });
    const collectionId = await clients[0]!.allocateTimestamp();
    const vchannels = topology.pchannels.map((p, i) => vchannelName(p, collectionId, i));
    await clients[0]!.broadcast(benchCollection('soak', collectionId).broadcast(vchannels).build());
    return { dir, server, httpPort, clients, vchannels };
  },
  async repeat(ctx, { durationMs }) {
    const idle = await serverMemory(ctx.httpPort);
    const max = await closedLoop(ctx, 32, 3000);
    const rate = max / 2;
    const readers = ctx.vchannels.map((vchannel) => ctx.clients[0]!.subscribe({ vchannel, from: 'latest' }));
    const reading = readers.map(async (sub) => {
      for await (const m of sub) void m;
    });
    const payload = new Uint8Array(KiB);
    const samples: { t: number; rss: number; heap: number; heapTotal: number; external: number }[] = [];
    const start = performance.now();
    let sent = 0;
    let nextSample = start + SAMPLE_MS;
    const pending = new Set<Promise<unknown>>();
    while (performance.now() - start < durationMs) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      for (; sent < due && pending.size < 10_000; sent++) {
        const c = ctx.clients[sent % CLIENTS]!;
        const p = c
          .append(
            MessageBuilder.data(payload)
              .vchannel(ctx.vchannels[sent % ctx.vchannels.length]!)
              .build(),
          )
          .finally(() => pending.delete(p));
        pending.add(p);
      }
      if (performance.now() >= nextSample) {
        const m = await serverMemory(ctx.httpPort);
        samples.push({ t: (performance.now() - start) / 60_000, ...m });
        nextSample += SAMPLE_MS;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
    for (const sub of readers) await sub.close();
    await Promise.all(reading.map((r) => r.catch(() => undefined)));
    const MiB = 2 ** 20;
    const secondHalf = samples.slice(Math.floor(samples.length / 2));
    return {
      metrics: {
        appendsPerSec: sent / (durationMs / 1000),
        rssEndMiB: (samples.at(-1)?.rss ?? NaN) / MiB,
        rssMaxMiB: Math.max(...samples.map((s) => s.rss)) / MiB,
        heapEndMiB: (samples.at(-1)?.heap ?? NaN) / MiB,
        heapCommittedEndMiB: (samples.at(-1)?.heapTotal ?? NaN) / MiB,
        externalEndMiB: (samples.at(-1)?.external ?? NaN) / MiB,
        rssTrendMiBPerMin: slope(
          secondHalf.map((s) => s.t),
          secondHalf.map((s) => s.rss / MiB),
        ),
      },
      baseline: { idleRssMiB: idle.rss / MiB },
      ratio: { rssEndVsIdle: (samples.at(-1)?.rss ?? NaN) / idle.rss },
    };
  },
  async teardown(ctx) {
    await Promise.all(ctx.clients.map((c) => c.close()));
    await ctx.server.stop();
    await ctx.dir.remove();
  },
  goals(metrics) {
    const max = (n: string): number => metrics[n]?.max ?? NaN;
    return {
      'server RSS at the end, 50 % load': { target: '≤ 300 MiB', pass: max('rssEndMiB') <= 300 },
      'RSS trend over the second half': { target: '≤ 1 MiB/min (no growth)', pass: max('rssTrendMiBPerMin') <= 1 },
    };
  },
};
