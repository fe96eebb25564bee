import assert from 'node:assert/strict';
import { MessageType } from '@streamsvc/message';
import type { AnyImmutableMessage } from '@streamsvc/message';
import type { ReadWalOptions, Wal, WalScanner } from '@streamsvc/wal-core';
import { sleep, Watchdog } from '../support/within.js';
import { isMarker, keyOfDelivered } from './messages.js';
import type { WalScenarioRuntime } from './wal-runtime.js';

/** Messages a reader takes before it lets the rest of the process run. */
const YIELD_EVERY = 32;

/**
 * Makes a reader slow on purpose: it stops for 100–600 ms (Milvus's numbers) at a few points, so the
 * write-ahead buffer evicts what it needs and it must fall back to the backend. By default a pause is
 * taken only while the scanner is tailing the buffer, where it forces a fallback.
 */
export interface SlowReader {
  /** Pause after this many counted messages (ascending); each pause waits for buffer mode. */
  readonly pauseAfter: readonly number[];
  /** Which delivered messages count toward `pauseAfter` (e.g. those of the current term). */
  readonly counts: (message: AnyImmutableMessage) => boolean;
  /** Pause only while the scanner tails the write-ahead buffer (default true; a read-only WAL has none). */
  readonly onlyWhenTailingBuffer?: boolean;
  readonly minMs?: number;
  readonly maxMs?: number;
}

/** `n` random pause points in `[1, within]`, ascending. */
export function randomPausePoints(n: number, within: number): number[] {
  return Array.from({ length: n }, () => 1 + Math.floor(Math.random() * within)).sort((a, b) => a - b);
}

/** How {@link readUntil} reads. */
export interface ReadOptions {
  /** Pauses on purpose. */
  readonly slow?: SlowReader | undefined;
  /**
   * Keep TimeTicks in the returned list (default true). Their order is checked either way; dropping
   * them saves memory on long reads, where ticks are most of what is delivered.
   */
  readonly keepTicks?: boolean;
}

/**
 * Reads `scanner` until `stop` accepts a message (included), pausing as `options.slow` says, and checks
 * on the way that time ticks strictly increase (TimeTicks included). Each wait for the next message is
 * bounded (pauses are not).
 * @throws {AssertionError} when the scanner ends first or delivers out of order; {@link WaitTimeoutError}
 *   when a message is late.
 */
export async function readUntil(
  ctx: WalScenarioRuntime<unknown>,
  scanner: WalScanner,
  stop: (message: AnyImmutableMessage) => boolean,
  what: string,
  options: ReadOptions = {},
): Promise<AnyImmutableMessage[]> {
  const { slow, keepTicks = true } = options;
  const out: AnyImmutableMessage[] = [];
  const pauses = [...(slow?.pauseAfter ?? [])];
  const watchdog = new Watchdog(ctx.waitTimeoutMs);
  let counted = 0;
  let read = 0;
  let last: AnyImmutableMessage | undefined;
  try {
    for (; ; read++) {
      // A reader catching up from an in-memory log never leaves the microtask queue; yield now and then
      // so writers and timers in this process keep their pace (readers elsewhere would not compete).
      if (read % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
      const step = await watchdog.wait(scanner.next(), `${what}: message ${read}`);
      if (step.done === true)
        assert.fail(`${what}: the reader ended after ${read} messages, before the expected last one`);
      const message = step.value;
      if (last !== undefined && message.timeTick <= last.timeTick) {
        assert.fail(
          `${what}: message ${read} (${label(message)} @${message.timeTick}) does not come after message ${read - 1} (${label(last)} @${last.timeTick}); delivery must be in strictly increasing time-tick order`,
        );
      }
      last = message;
      if (keepTicks || message.type !== MessageType.TimeTick) out.push(message);
      if (stop(message)) return out;
      if (slow === undefined || pauses.length === 0) continue;
      if (slow.counts(message)) counted++;
      const tailing = scanner.stats.mode === 'wab' || slow.onlyWhenTailingBuffer === false;
      if (counted >= pauses[0]! && tailing) {
        pauses.shift();
        const [min, max] = [slow.minMs ?? 100, slow.maxMs ?? 600];
        await sleep(min + Math.floor(Math.random() * (max - min)));
      }
    }
  } finally {
    watchdog.close();
  }
}

function label(m: AnyImmutableMessage): string {
  return `${m.type === MessageType.Txn ? 'Txn' : m.typeName} ${keyOfDelivered(m)}`;
}

/**
 * Opens a reader on `wal` and reads up to and including the marker of `tag`, then closes it.
 * @returns what was delivered and the scanner's final stats.
 * @throws like {@link readUntil}.
 */
export async function readToMarker(
  ctx: WalScenarioRuntime<unknown>,
  wal: Wal,
  options: ReadWalOptions,
  tag: string,
  what: string,
  read: ReadOptions = {},
): Promise<{ readonly messages: AnyImmutableMessage[]; readonly stats: WalScanner['stats'] }> {
  const scanner = ctx.read(wal, { name: 'conformance', ...options });
  try {
    const messages = await readUntil(ctx, scanner, (m) => isMarker(m, tag), what, read);
    return { messages, stats: scanner.stats };
  } finally {
    await ctx.within(scanner.close(), `${what}: scanner.close()`).catch(() => {
      // The read's own outcome matters more; closeAll() reports a scanner that cannot close.
    });
  }
}

/**
 * Reads `scanner` until it ends (its WAL closed under it), each wait bounded.
 * @throws {WaitTimeoutError} when it neither delivers nor ends in time.
 */
export async function readUntilEnd(
  ctx: WalScenarioRuntime<unknown>,
  scanner: WalScanner,
  what: string,
): Promise<AnyImmutableMessage[]> {
  const out: AnyImmutableMessage[] = [];
  for (;;) {
    const step = await ctx.within(scanner.next(), `${what}: message ${out.length} or the end`);
    if (step.done === true) return out;
    out.push(step.value);
  }
}
