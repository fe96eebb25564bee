import { EtcdMetaKv } from '@streamsvc/metastore';
import type { MetaKv } from '@streamsvc/metastore';
import { startEtcd } from '@streamsvc/testkit';
import type { EtcdService } from '@streamsvc/testkit';
import { BatchTsoAllocator, GlobalTsoAllocator } from '@streamsvc/tso';

import type { Scenario } from '../scenario.js';

interface Context {
  readonly etcd: EtcdService;
  readonly kv: MetaKv;
  run: number;
}

const CHECK_EVERY = 4096;

/** Runs `step` in a tight loop for `durationMs`; returns operations per second. */
async function rate(durationMs: number, step: () => unknown): Promise<number> {
  let ops = 0;
  const start = performance.now();
  const end = start + durationMs;
  for (;;) {
    for (let i = 0; i < CHECK_EVERY; i++) await step();
    ops += CHECK_EVERY;
    if (performance.now() >= end) break;
  }
  return ops / ((performance.now() - start) / 1000);
}

/**
 * TSO allocation rate in process, against a real etcd (its own process) holding the window.
 * Baseline: the same awaited loop incrementing a bigint counter — the floor any allocator pays here.
 */
export const tsoScenario: Scenario<Context> = {
  description: 'in-process hybrid timestamp allocation; MetaKV writes per second at that rate',
  async setup() {
    const etcd = await startEtcd();
    const kv = await EtcdMetaKv.connect({ endpoints: etcd.endpoints });
    return { etcd, kv, run: 0 };
  },
  async repeat(context, { durationMs }) {
    const key = `bench/tso/${process.pid}/${context.run++}`;
    let counter = 0n;
    const baseline = await rate(durationMs, () => counter++);

    const global = await GlobalTsoAllocator.open({ kv: context.kv, key });
    try {
      const writesBefore = global.persistCount;
      const started = performance.now();
      const globalRate = await rate(durationMs, () => global.allocate());
      const batch = new BatchTsoAllocator({ source: global });
      const batchRate = await rate(durationMs, () => batch.allocate());
      const seconds = (performance.now() - started) / 1000;
      const kvWritesPerSec = (global.persistCount - writesBefore) / seconds;
      return {
        metrics: { globalAllocatePerSec: globalRate, nodeBatchAllocatePerSec: batchRate, kvWritesPerSec },
        baseline: { awaitedBigintIncrementPerSec: baseline },
        ratio: { globalVsBaseline: globalRate / baseline, nodeBatchVsBaseline: batchRate / baseline },
      };
    } finally {
      await global.close();
    }
  },
  async teardown(context) {
    await context.kv.close();
    await context.etcd.stop();
  },
  goals(metrics) {
    const global = metrics['globalAllocatePerSec']?.median ?? 0;
    const writes = metrics['kvWritesPerSec']?.median ?? Infinity;
    return {
      'allocation rate': { target: '≥ 2,000,000 ts/s', pass: global >= 2_000_000 },
      'MetaKV writes at that rate': { target: '≤ 20 /s', pass: writes <= 20 },
    };
  },
};
