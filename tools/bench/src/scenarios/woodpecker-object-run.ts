import { noopLogger, systemClock } from '@streamsvc/common';
import { EmbeddedMetaKv } from '@streamsvc/metastore';
import { woodpeckerWal } from '@streamsvc/wal-woodpecker';

import { afterWarmup, BENCH_PCHANNEL, messages, percentile } from './woodpecker-samples.js';
import { S3StandIn } from './woodpecker-s3-standin.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PCHANNEL = BENCH_PCHANNEL;

/** The stand-in's link and latency (performance.md G14: MinIO-like PUT p50 20 ms / p99 60 ms, 100 MB/s). */
export const OBJECT_BENCH = {
  bandwidthBytesPerSec: 100 * 1000 * 1000,
  putLatencyP50Ms: 20,
  putLatencyP99Ms: 60,
  flushIntervalMs: 50,
  entryBytes: 16 * KiB,
  /** Appends in flight for the throughput run: 16 MiB, enough to keep the pipeline full. */
  inFlight: 1024,
  /** The open-loop latency run offers this share of the bandwidth. */
  latencyLoad: 0.5,
} as const;

async function open(dir: string, store: S3StandIn) {
  const metaKv = await EmbeddedMetaKv.open({ path: dir });
  const opener = await woodpeckerWal.createOpener(
    woodpeckerWal.configSchema.parse({ mode: 'object', flushIntervalMs: OBJECT_BENCH.flushIntervalMs }),
    { logger: noopLogger, clock: systemClock, metaKv, objectStore: store },
  );
  const wal = await opener.open({ pchannel: PCHANNEL, term: 1n, mode: 'rw' });
  return {
    wal,
    close: async () => {
      await opener.close();
      await metaKv.close();
    },
  };
}

function standIn(): S3StandIn {
  return new S3StandIn({
    bandwidthBytesPerSec: OBJECT_BENCH.bandwidthBytesPerSec,
    putLatencyP50Ms: OBJECT_BENCH.putLatencyP50Ms,
    putLatencyP99Ms: OBJECT_BENCH.putLatencyP99Ms,
  });
}

/**
 * Object mode against the in-process S3 stand-in:
 * - throughput, closed loop with 16 MiB in flight (saturating), as a share of the link's bandwidth;
 * - ack latency, open loop at half the bandwidth, against flush interval + the PUT p99 measured by
 *   the stand-in in the same run.
 */
export async function objectRun(dir: string, durationMs: number): Promise<Record<string, number>> {
  const pool = messages(256, OBJECT_BENCH.entryBytes);

  const saturated = standIn();
  let run = await open(`${dir}/meta-tp`, saturated);
  let count = 0;
  const start = performance.now();
  const stop = start + durationMs;
  await Promise.all(
    Array.from({ length: OBJECT_BENCH.inFlight }, async (_, worker) => {
      for (let i = worker; performance.now() < stop; i += OBJECT_BENCH.inFlight) {
        await run.wal.append(pool[i % pool.length]!);
        count++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await run.close();
  const throughputMBps = (count * OBJECT_BENCH.entryBytes) / seconds / 1e6;

  const loaded = standIn();
  run = await open(`${dir}/meta-lat`, loaded);
  const rate = (OBJECT_BENCH.latencyLoad * OBJECT_BENCH.bandwidthBytesPerSec) / OBJECT_BENCH.entryBytes;
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  let sent = 0;
  // Open loop: every millisecond, issue the appends due by then; latency from the intended send time.
  while (performance.now() - t0 < durationMs) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; sent < due; sent++) {
      const intended = t0 + (sent / rate) * 1000;
      pending.push(
        run.wal.append(pool[sent % pool.length]!).then(() => void latencies.push(performance.now() - intended)),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  await run.close();
  const acks = afterWarmup(latencies);
  const puts = afterWarmup(loaded.putDurationsMs);
  return {
    objectThroughputMBps: throughputMBps,
    objectBandwidthMBps: OBJECT_BENCH.bandwidthBytesPerSec / 1e6,
    objectAckP50Ms: percentile(acks, 50),
    objectAckP99Ms: percentile(acks, 99),
    objectPutP50Ms: percentile(puts, 50),
    objectPutP99Ms: percentile(puts, 99),
    objectPutsPerSec: loaded.putDurationsMs.length / (durationMs / 1000),
    objectFlushIntervalMs: OBJECT_BENCH.flushIntervalMs,
    objectMeanBlockMiB: saturated.bytesPut / saturated.putDurationsMs.length / MiB,
  };
}
