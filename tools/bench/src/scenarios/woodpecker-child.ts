/**
 * The measured side of `npm run bench -- woodpecker`, run as its own process (the harness spawns it):
 * the woodpecker writer and the raw baselines it is compared with, on the same disk, in the same run.
 * Prints one JSON line per command.
 *
 *   woodpecker-child.ts local   <dir> <durationMs>   1 KiB: window-1 latency, 64-in-flight throughput, raw baselines
 *   woodpecker-child.ts object  <dir> <durationMs>   object mode against the in-process S3 stand-in
 *   woodpecker-child.ts fill    <dir> <bytes>        fills an unsealed local log, prints "filled", waits to be killed
 *   woodpecker-child.ts recover <dir>                times the read-write open that recovers it, and a raw scan
 */
import { closeSync, fdatasyncSync, ftruncateSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';

import { crc32c } from '@node-rs/crc32';
import { noopLogger, systemClock } from '@streamsvc/common';
import { EmbeddedMetaKv } from '@streamsvc/metastore';
import type { BackendWal, WalOpener } from '@streamsvc/wal-core';
import { woodpeckerWal } from '@streamsvc/wal-woodpecker';
import type { WoodpeckerWalConfigInput } from '@streamsvc/wal-woodpecker';

import { objectRun } from './woodpecker-object-run.js';
import { afterWarmup, BENCH_PCHANNEL, messages, percentile } from './woodpecker-samples.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PCHANNEL = BENCH_PCHANNEL;

async function openLocal(dir: string, term: bigint, extra: Partial<WoodpeckerWalConfigInput> = {}) {
  const metaKv = await EmbeddedMetaKv.open({ path: `${dir}/meta` });
  const opener = await woodpeckerWal.createOpener(
    woodpeckerWal.configSchema.parse({ mode: 'local', rootDir: `${dir}/wal`, ...extra }),
    { logger: noopLogger, clock: systemClock, metaKv },
  );
  return { metaKv, opener };
}

/**
 * A raw file on the same disk: `write + fdatasync` of 1 KiB records, or `writev` of a batch + one
 * fdatasync (group commit), continued slice after slice so the measurements can be interleaved with the
 * WAL's — the disk is shared and noisy, and only alternating short slices see the same conditions.
 */
class RawFile {
  readonly #fd: number;
  #at = 0;

  constructor(file: string, preallocated: boolean) {
    this.#fd = openSync(file, 'w+');
    if (preallocated) ftruncateSync(this.#fd, 1024 * MiB);
  }

  /** Latencies of `write + fdatasync` of 1 KiB for `ms`. */
  latency(ms: number): number[] {
    const record = Buffer.alloc(KiB, 0xab);
    const samples: number[] = [];
    const end = performance.now() + ms;
    while (performance.now() < end && this.#at < 1000 * MiB) {
      const t = performance.now();
      this.#at += writeSync(this.#fd, record, 0, KiB, this.#at);
      fdatasyncSync(this.#fd);
      samples.push(performance.now() - t);
    }
    return samples;
  }

  /** Records committed in `ms` by `writev` of `k` records of `recordBytes` + one fdatasync each. */
  groupCommit(ms: number, k: number, recordBytes: number): { records: number; seconds: number } {
    const batch = Array.from({ length: k }, () => Buffer.alloc(recordBytes, 0xcd));
    let records = 0;
    const start = performance.now();
    while (performance.now() - start < ms && this.#at < 1000 * MiB) {
      this.#at += writevSync(this.#fd, batch, this.#at);
      fdatasyncSync(this.#fd);
      records += k;
    }
    return { records, seconds: (performance.now() - start) / 1000 };
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Blocks and entries the log's segments hold, from the MetaKv (`<metaPrefix>/logs/<pchannel>/segments/`). */
async function blockStats(metaKv: EmbeddedMetaKv): Promise<{ blocks: number; entries: number; bytes: number }> {
  const page = await metaKv.list(`woodpecker/logs/${PCHANNEL}/segments/`, { limit: 10_000 });
  let blocks = 0;
  let entries = 0;
  let bytes = 0;
  for (const kv of page.kvs) {
    const s = JSON.parse(Buffer.from(kv.value).toString()) as { blocks: number; lastEntryId: number; bytes: number };
    blocks += s.blocks;
    entries += s.lastEntryId + 1;
    bytes += s.bytes;
  }
  return { blocks, entries, bytes };
}

const ROUNDS = 4;

async function local(dir: string, durationMs: number): Promise<Record<string, number>> {
  const slice = durationMs / ROUNDS;
  const pool = messages(4096, KiB);
  const rawAppend = new RawFile(`${dir}/raw-append.dat`, false);
  const rawPrealloc = new RawFile(`${dir}/raw-prealloc.dat`, true);

  // Window 1: one append at a time, ack latency; the raw slices alternate with the WAL's.
  const w1Dir = `${dir}/w1`;
  const latencies: number[] = [];
  const rawA: number[] = [];
  const rawP: number[] = [];
  let i = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const { metaKv, opener } = await openLocal(w1Dir, 1n);
    const wal: BackendWal = await opener.open({ pchannel: PCHANNEL, term: 1n, mode: 'rw' });
    const end = performance.now() + slice;
    for (; performance.now() < end; i++) {
      const t = performance.now();
      await wal.append(pool[i % pool.length]!);
      latencies.push(performance.now() - t);
    }
    await closeAll(opener, metaKv);
    rawA.push(...rawAppend.latency(slice / 2));
    rawP.push(...rawPrealloc.latency(slice / 2));
  }
  const w1 = afterWarmup(latencies);

  // 64 in flight: entries per second, CPU per append, and the block (batch) size it produced; each
  // slice is followed by raw group commits of the same batch size and bytes.
  const w64Dir = `${dir}/w64`;
  let count = 0;
  let seconds = 0;
  let cpuUs = 0;
  let raw = { records: 0, seconds: 0 };
  let stats = { blocks: 0, entries: 0, bytes: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const { metaKv, opener } = await openLocal(w64Dir, 1n);
    const wal: BackendWal = await opener.open({ pchannel: PCHANNEL, term: 1n, mode: 'rw' });
    const cpu = process.cpuUsage();
    const start = performance.now();
    const stop = start + slice;
    await Promise.all(
      Array.from({ length: 64 }, async (_, worker) => {
        for (let n = worker; performance.now() < stop; n += 64) {
          await wal.append(pool[n % pool.length]!);
          count++;
        }
      }),
    );
    seconds += (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    cpuUs += used.user + used.system;
    await wal.close();
    stats = await blockStats(metaKv);
    await closeAll(opener, metaKv);
    const batch = Math.max(1, Math.round(stats.entries / stats.blocks));
    const recordBytes = Math.round(stats.bytes / stats.entries);
    // The faster of appending and overwriting a preallocated file: the baseline never flatters the WAL.
    const a = rawAppend.groupCommit(slice / 2, batch, recordBytes);
    const p = rawPrealloc.groupCommit(slice / 2, batch, recordBytes);
    const best = a.records / a.seconds >= p.records / p.seconds ? a : p;
    raw = { records: raw.records + best.records, seconds: raw.seconds + best.seconds };
  }
  rawAppend.close();
  rawPrealloc.close();
  return {
    w1AckP50Ms: percentile(w1, 50),
    w1AckP99Ms: percentile(w1, 99),
    rawSyncAppendP50Ms: percentile(afterWarmup(rawA), 50),
    rawSyncPreallocP50Ms: percentile(afterWarmup(rawP), 50),
    w64EntriesPerSec: count / seconds,
    w64CpuUsPerAppend: cpuUs / count,
    w64EntriesPerBlock: stats.entries / stats.blocks,
    w64BytesPerEntry: Math.round(stats.bytes / stats.entries),
    rawGroupCommitPerSec: raw.records / raw.seconds,
  };
}

async function closeAll(opener: WalOpener, metaKv: EmbeddedMetaKv): Promise<void> {
  await opener.close();
  await metaKv.close();
}

/** Fills one unsealed segment with `bytes` of 64 KiB entries, then waits for SIGKILL. */
async function fill(dir: string, bytes: number): Promise<void> {
  const { opener } = await openLocal(dir, 1n, { segmentMaxBytes: 2 * bytes });
  const wal = await opener.open({ pchannel: PCHANNEL, term: 1n, mode: 'rw' });
  const pool = messages(64, 64 * KiB);
  const target = Math.ceil(bytes / (64 * KiB));
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let i = next++; i < target; i = next++) await wal.append(pool[i % pool.length]!);
    }),
  );
  process.stdout.write('filled\n');
  // Keeps the process alive until the harness kills it: the crash leaves the segment active.
  setInterval(() => {}, 1 << 30);
}

/** Times the recovery of the filled log, and a raw sequential read + CRC32C of the same file. */
async function recover(dir: string): Promise<Record<string, number>> {
  const files = (await readdir(`${dir}/wal/${PCHANNEL}`)).filter((f) => f.endsWith('.log'));
  const file = `${dir}/wal/${PCHANNEL}/${files.sort().at(-1)!}`;
  const fd = openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(8 * MiB);
  let scanned = 0;
  const scanStart = performance.now();
  for (let n = readSync(fd, chunk, 0, chunk.length, 0); n > 0; n = readSync(fd, chunk, 0, chunk.length, scanned)) {
    crc32c(chunk.subarray(0, n));
    scanned += n;
  }
  const rawScanMs = performance.now() - scanStart;
  closeSync(fd);

  const { metaKv, opener } = await openLocal(dir, 2n);
  const start = performance.now();
  const wal = await opener.open({ pchannel: PCHANNEL, term: 2n, mode: 'rw' });
  const recoveryMs = performance.now() - start;
  const page = await metaKv.list(`woodpecker/logs/${PCHANNEL}/segments/`);
  const recovered = JSON.parse(Buffer.from(page.kvs[0]!.value).toString()) as { bytes: number; lastEntryId: number };
  await wal.close();
  await closeAll(opener, metaKv);
  return {
    recoveryMs,
    recoveredMiB: recovered.bytes / MiB,
    recoveredEntries: recovered.lastEntryId + 1,
    rawScanMs,
    rawScanMiB: scanned / MiB,
  };
}

const [command, dir, arg] = process.argv.slice(2);
await mkdir(dir!, { recursive: true });
switch (command) {
  case 'local':
    process.stdout.write(`${JSON.stringify(await local(dir!, Number(arg)))}\n`);
    break;
  case 'object':
    process.stdout.write(`${JSON.stringify(await objectRun(dir!, Number(arg)))}\n`);
    break;
  case 'fill':
    await fill(dir!, Number(arg));
    break;
  case 'recover':
    process.stdout.write(`${JSON.stringify(await recover(dir!))}\n`);
    break;
  default:
    process.stderr.write(`unknown command ${String(command)}\n`);
    process.exit(2);
}
