import { noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder, counterMessageIdCodec, vchannelName } from '@streamsvc/message';
import { Wal } from '@streamsvc/wal-core';
import type { BackendWal, WalOpener } from '@streamsvc/wal-core';
import { memoryWal } from '@streamsvc/wal-memory';

import type { Scenario } from '../scenario.js';
import { benchCollection, wallClockTso } from './bench-support.js';

const PAYLOAD = new Uint8Array(1024).map((_, i) => (i * 7919) & 0xff);
const IN_FLIGHT = 64;
const READERS = 4;
const SAMPLE_EVERY = 8;

interface Context {
  run: number;
}

/** Keeps `inFlight` operations running for `durationMs`; returns completed operations per second. */
async function closedLoop(
  durationMs: number,
  inFlight: number,
  op: () => Promise<unknown>,
): Promise<{ rate: number; count: number }> {
  let count = 0;
  const end = performance.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await op();
        count++;
      }
    }),
  );
  return { rate: count / ((performance.now() - start) / 1000), count };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function openAll(run: number): Promise<{ opener: WalOpener; raw: BackendWal; wal: Wal; vchannel: string }> {
  // Bounded retention: the bench appends millions of 1 KiB records and measures the WAL, not the heap.
  const opener = await memoryWal.createOpener(memoryWal.configSchema.parse({ maxRecordsPerChannel: 100_000 }), {
    logger: noopLogger,
    clock: systemClock,
  });
  const raw = await opener.open({ pchannel: `raw${run}-dml_0`, term: 1n, mode: 'rw' });
  const pchannel = `bench${run}-dml_0`;
  const vchannel = vchannelName(pchannel, 1n, 0);
  const wal = await Wal.open({ opener, pchannel, term: 1n, tso: wallClockTso(), config: { timeTickIntervalMs: 200 } });
  await wal.append(benchCollection('bench', 1n).vchannel(vchannel).build());
  return { opener, raw, wal, vchannel };
}

/**
 * The WAL over the in-memory backend, in process, 1 KiB Data messages:
 * - throughput with 64 appends in flight and CPU µs per append;
 * - tail delivery (append ack → reader receives) with 4 tailing readers at half that load.
 * Baseline: the raw memory backend's append rate with 64 in flight (messages stamped by hand).
 */
export const walCoreScenario: Scenario<Context> = {
  description: 'WAL append throughput, CPU per append and tail delivery latency on the memory backend',
  async setup() {
    return { run: 0 };
  },
  async repeat(context, { durationMs }) {
    const { opener, raw, wal, vchannel } = await openAll(context.run++);
    try {
      // Baseline: the backend alone, same payload and concurrency.
      const ids = counterMessageIdCodec('memory');
      let fakeTt = 1n;
      const rawRun = await closedLoop(durationMs, IN_FLIGHT, () =>
        raw.append(
          MessageBuilder.data(PAYLOAD).vchannel(vchannel).build().withTimeTick(fakeTt++).withLastConfirmed(ids.of(0n)),
        ),
      );

      const cpuBefore = process.cpuUsage();
      const walRun = await closedLoop(durationMs, IN_FLIGHT, () =>
        wal.append(MessageBuilder.data(PAYLOAD).vchannel(vchannel).build()),
      );
      const cpu = process.cpuUsage(cpuBefore);
      const cpuUsPerAppend = (cpu.user + cpu.system) / walRun.count;

      // Tail latency: 4 readers on the buffer, open-loop appends at half the measured rate.
      const acked = new Map<bigint, number>();
      const latencies: number[] = [];
      const readers = Array.from({ length: READERS }, () => wal.read({ policy: { kind: 'latest' }, vchannel }));
      const consuming = readers.map(async (reader) => {
        for await (const m of reader) {
          const at = acked.get(m.timeTick);
          if (at !== undefined) latencies.push(performance.now() - at);
        }
      });
      // Open loop: on every turn of the event loop, issue the appends that are due by then (smooth, like
      // many independent clients; a 1 ms timer made bursts of rate/1000 that queued behind each other),
      // never waiting for acks, so a slow ack shows up as latency.
      // Every 8th append is timed: a map entry per append (hundreds of thousands of bigint keys, looked
      // up by every reader) cost the process more GC than the WAL itself and showed up as its latency.
      const rate = walRun.rate / 2;
      const start = performance.now();
      let sent = 0;
      let outstanding = 0;
      while (performance.now() - start < durationMs) {
        const due = Math.floor(((performance.now() - start) / 1000) * rate);
        for (; sent < due && outstanding < 10_000; sent++) {
          outstanding++;
          const timed = sent % SAMPLE_EVERY === 0;
          void wal.append(MessageBuilder.data(PAYLOAD).vchannel(vchannel).build()).then((r) => {
            if (timed) acked.set(r.timeTick, performance.now());
            outstanding--;
          });
        }
        await new Promise((r) => setImmediate(r));
      }
      while (outstanding > 0) await new Promise((r) => setTimeout(r, 1));
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all(readers.map((r) => r.close()));
      await Promise.all(consuming);
      // A reader may receive a message before its append's ack callback ran: those count as 0.
      const sorted = latencies.map((l) => Math.max(0, l)).sort((a, b) => a - b);
      return {
        metrics: {
          appendsPerSec: walRun.rate,
          cpuUsPerAppend,
          tailP50Ms: percentile(sorted, 50),
          tailP99Ms: percentile(sorted, 99),
          tailSamples: sorted.length,
        },
        baseline: { rawBackendAppendsPerSec: rawRun.rate },
        ratio: { walVsRawBackend: walRun.rate / rawRun.rate },
      };
    } finally {
      await wal.close();
      await raw.close();
      await opener.close();
    }
  },
  async teardown() {},
  goals(metrics) {
    const m = (name: string): number => metrics[name]?.median ?? NaN;
    return {
      'append throughput (64 in flight)': { target: '≥ 150,000 /s', pass: m('appendsPerSec') >= 150_000 },
      'CPU per append': { target: '≤ 6 µs', pass: m('cpuUsPerAppend') <= 6 },
      'tail delivery p50 (4 readers, half load)': { target: '≤ 0.1 ms', pass: m('tailP50Ms') <= 0.1 },
      'tail delivery p99 (4 readers, half load)': { target: '≤ 1 ms', pass: m('tailP99Ms') <= 1 },
    };
  },
};
