import assert from 'node:assert/strict';
import { sleep } from '../../support/within.js';
import { createCollection, data, vchannelOf } from '../messages.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

/** Appends per pchannel, one at a time about a millisecond apart: dozens per idle interval. */
const APPENDS = 100;
const IDLE_TICK_MS = 50;
/**
 * Timers one WAL may have pending while it takes appends: its idle-tick wait, and a few for whatever
 * else is in flight. The scenario's own waits are few and short.
 */
const TIMERS_PER_WAL = 8;

/**
 * `bounded-idle-timers`: a busy WAL does not pile up timers. Between two syncs the time-tick sync waits
 * for the idle interval or for the next request, whichever comes first; a wait cut short by a request
 * must be cancelled, not left running — with its abort listener — until the interval ends. Otherwise a
 * WAL taking an append every few milliseconds keeps dozens of timers and listeners alive (and Node
 * warns `MaxListenersExceededWarning: Possible EventTarget memory leak detected`). The scenario appends
 * one message about every millisecond on each pchannel and samples the process's pending timers.
 */
export async function boundedIdleTimers(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  const pendingTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const baseline = pendingTimers();
  let peak = baseline;
  const channels = ctx.uniquePChannels().length;
  await ctx.forEachChannel(async (pchannel) => {
    const v = vchannelOf(pchannel, 1n);
    const config = { timeTickIntervalMs: IDLE_TICK_MS };
    const wal = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 1n, config });
    await ctx.within(wal.append(createCollection(v, `${v}/create`)), `${pchannel}: CreateCollection`);
    for (let i = 0; i < APPENDS; i++) {
      await ctx.within(wal.append(data(v, `seq/${i}`)), `${pchannel}: seq/${i}`);
      peak = Math.max(peak, pendingTimers());
      await sleep(1); // the sync catches up and waits again before the next request
    }
  });
  const allowed = baseline + channels * TIMERS_PER_WAL;
  if (peak > allowed) {
    assert.fail(
      `${channels} WALs taking an append about every millisecond had up to ${peak - baseline} timers pending (at most ${channels * TIMERS_PER_WAL} expected): idle-tick waits cut short by a request are left running`,
    );
  }
}
