import path from 'node:path';

import { spawnTsChild, tempDir } from '@streamsvc/testkit';
import type { ManagedProcess } from '@streamsvc/testkit';

import type { Scenario } from '../scenario.js';

const CHILD = path.join(import.meta.dirname, 'woodpecker-child.ts');
const RECOVERY_BYTES = 256 * 1024 * 1024;

interface Context {
  run: number;
}

/** Runs one command of the child and returns the JSON it printed last. */
async function child(name: string, args: string[], logDir: string): Promise<Record<string, number>> {
  const proc = await spawnTsChild(CHILD, { name, args, logFile: path.join(logDir, `${name}.log`) });
  let last = '';
  proc.onLine((line) => {
    if (line.startsWith('{')) last = line;
  });
  const exit = await proc.exited;
  if (exit.code !== 0 || last === '')
    throw new Error(`woodpecker bench child ${name} failed (${JSON.stringify(exit)}):\n${proc.tail()}`);
  return JSON.parse(last) as Record<string, number>;
}

/** Fills an unsealed log in a child, kill -9s it, and times the recovering open in a fresh one. */
async function crashAndRecover(dir: string, logDir: string): Promise<Record<string, number>> {
  const writer: ManagedProcess = await spawnTsChild(CHILD, {
    name: 'fill',
    args: ['fill', dir, String(RECOVERY_BYTES)],
    logFile: path.join(logDir, 'fill.log'),
  });
  try {
    await writer.nextLine((l) => l === 'filled', 120_000);
  } finally {
    writer.signal('SIGKILL');
    await writer.exited;
  }
  return child('recover', ['recover', dir], logDir);
}

/**
 * The woodpecker backend, measured in its own process (the child), with its raw baselines measured
 * in the same child on the same disk in the same run:
 * - local, 1 KiB, window 1: ack p50 vs raw `write + fdatasync` of 1 KiB (the faster of appending and
 *   overwriting a preallocated file);
 * - local, 1 KiB, 64 in flight: entries/s vs raw `writev + fdatasync` group commit of the same bytes
 *   per commit (the batch size the WAL produced);
 * - object mode vs an in-process S3 stand-in (PUT p50 20 ms / p99 60 ms, 100 MB/s link): throughput
 *   as a share of the link; ack p99 at half load vs flush interval + the PUT p99 the stand-in saw;
 * - recovery of a 256 MiB unsealed local log after kill -9, vs a raw read + CRC32C of the same file.
 */
export const woodpeckerScenario: Scenario<Context> = {
  description: 'woodpecker WAL backend: local group commit, object mode pipeline, crash recovery',
  async setup() {
    return { run: 0 };
  },
  async repeat(context, { durationMs }) {
    await using dir = await tempDir('bench-woodpecker-');
    const run = context.run++;
    const local = await child(`local-${run}`, ['local', path.join(dir.path, 'local'), String(durationMs)], dir.path);
    const object = await child(
      `object-${run}`,
      ['object', path.join(dir.path, 'object'), String(durationMs)],
      dir.path,
    );
    const recovery = await crashAndRecover(path.join(dir.path, 'recovery'), dir.path);
    const rawW1 = Math.min(local['rawSyncAppendP50Ms']!, local['rawSyncPreallocP50Ms']!);
    const ackBudget = object['objectFlushIntervalMs']! + object['objectPutP99Ms']! + 10;
    return {
      metrics: {
        localW1AckP50Ms: local['w1AckP50Ms']!,
        localW1AckP99Ms: local['w1AckP99Ms']!,
        localW64EntriesPerSec: local['w64EntriesPerSec']!,
        localW64CpuUsPerAppend: local['w64CpuUsPerAppend']!,
        localW64EntriesPerBlock: local['w64EntriesPerBlock']!,
        objectThroughputMBps: object['objectThroughputMBps']!,
        objectAckP50Ms: object['objectAckP50Ms']!,
        objectAckP99Ms: object['objectAckP99Ms']!,
        objectPutsPerSec: object['objectPutsPerSec']!,
        objectMeanBlockMiB: object['objectMeanBlockMiB']!,
        recoveryMs: recovery['recoveryMs']!,
        recoveredMiB: recovery['recoveredMiB']!,
      },
      baseline: {
        rawWriteFdatasync1KiBP50Ms: rawW1,
        rawGroupCommitSameBytesPerSec: local['rawGroupCommitPerSec']!,
        standInBandwidthMBps: object['objectBandwidthMBps']!,
        standInPutP99Ms: object['objectPutP99Ms']!,
        objectAckP99BudgetMs: ackBudget,
        rawScanCrcMs: recovery['rawScanMs']!,
      },
      ratio: {
        localW1AckP50VsRaw: local['w1AckP50Ms']! / rawW1,
        localW64VsRawGroupCommit: local['w64EntriesPerSec']! / local['rawGroupCommitPerSec']!,
        objectThroughputVsBandwidth: object['objectThroughputMBps']! / object['objectBandwidthMBps']!,
        objectAckP99VsBudget: object['objectAckP99Ms']! / ackBudget,
        recoveryVsRawScan: recovery['recoveryMs']! / recovery['rawScanMs']!,
      },
    };
  },
  async teardown() {},
  goals(metrics, ratio) {
    const m = (name: string): number => metrics[name]?.median ?? NaN;
    const r = (name: string): number => ratio[name]?.median ?? NaN;
    return {
      'local w1 ack p50 vs raw write+fdatasync': { target: '≤ 2 ×', pass: r('localW1AckP50VsRaw') <= 2 },
      'local 64 in flight vs raw group commit': { target: '≥ 0.5 ×', pass: r('localW64VsRawGroupCommit') >= 0.5 },
      'local 64 in flight entries/s': { target: '≥ 100,000 /s', pass: m('localW64EntriesPerSec') >= 100_000 },
      'object throughput vs bandwidth cap': { target: '≥ 65 %', pass: r('objectThroughputVsBandwidth') >= 0.65 },
      'object ack p99 vs flush + PUT p99 + 10 ms': { target: '≤ 1 ×', pass: r('objectAckP99VsBudget') <= 1 },
      'recovery of a 256 MiB unsealed log': { target: '≤ 1,000 ms', pass: m('recoveryMs') <= 1000 },
    };
  },
};
