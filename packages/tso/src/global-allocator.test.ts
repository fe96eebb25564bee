import { ManualClock } from '@streamsvc/common';

import { FakeTsoKv } from '../test/support/fake-tso-kv.js';
import { GlobalTsoAllocator } from './global-allocator.js';
import { LOGICAL_PER_MS, composeTs, splitTs } from './hybrid-ts.js';

const KEY = 'tso/timestamp';
const boundOf = (kv: FakeTsoKv): number => Number(new TextDecoder().decode(kv.data.get(KEY)!.value));
/** Lets the allocator's ticker (a clock sleep loop) and pending promises run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('GlobalTsoAllocator', () => {
  let clock: ManualClock;
  let kv: FakeTsoKv;
  const open = (windowMs = 3000): Promise<GlobalTsoAllocator> => GlobalTsoAllocator.open({ kv, clock, windowMs });

  beforeEach(() => {
    clock = new ManualClock(1_000_000);
    kv = new FakeTsoKv();
  });

  it('persists now + window on open and starts at the current wall-clock millisecond', async () => {
    await using tso = await open();
    expect(boundOf(kv)).toBe(1_003_000);
    expect(splitTs(await tso.allocate())).toEqual({ physicalMs: 1_000_000, logical: 0 });
    expect(kv.writes).toBe(1);
  });

  it('starts above a persisted bound that is ahead of the wall clock, so no timestamp is reissued after a crash', async () => {
    kv.externalPut(KEY, '2000000');
    await using tso = await open();
    const ts = await tso.allocate();
    expect(splitTs(ts).physicalMs).toBe(2_000_000);
    expect(boundOf(kv)).toBe(2_003_000);
  });

  it('hands out strictly increasing, non-overlapping blocks', async () => {
    await using tso = await open();
    let last = -1n;
    for (let i = 0; i < 5000; i++) {
      const count = (i % 7) + 1;
      const first = await tso.allocate(count);
      expect(first > last).toBe(true);
      last = first + BigInt(count) - 1n;
      if (i % 500 === 0) {
        clock.advance(1);
        await settle();
      }
    }
  });

  it('follows the wall clock on its ticks and renews the window once half of it is used', async () => {
    await using tso = await open(1000);
    clock.advance(400);
    await settle();
    expect(splitTs(tso.tryAllocate()!).physicalMs).toBe(1_000_400);
    expect(kv.writes).toBe(1);
    clock.advance(200); // 600 ms used of a 1000 ms window
    await settle();
    expect(kv.writes).toBe(2);
    expect(boundOf(kv)).toBe(1_000_600 + 1000);
  });

  it('writes the window about twice per window length whatever the allocation rate', async () => {
    await using tso = await open(3000);
    for (let ms = 0; ms < 30_000; ms += 50) {
      for (let i = 0; i < 100; i++) tso.tryAllocate();
      clock.advance(50);
      await settle();
    }
    // 30 s of clock time with a 3 s window: one renewal per ~1.5 s, plus the one at open.
    expect(kv.writes).toBeGreaterThanOrEqual(15);
    expect(kv.writes).toBeLessThanOrEqual(22);
  });

  it('never issues a timestamp at or past the persisted bound while the metastore is unreachable', async () => {
    await using tso = await open(1000);
    kv.holdWrites();
    clock.advance(5000); // the wall clock runs far past the bound
    await settle();
    const boundBefore = boundOf(kv);
    // Everything that can be issued without waiting lies below the bound...
    const issued: bigint[] = [];
    for (let ts = tso.tryAllocate(); ts !== undefined && issued.length <= LOGICAL_PER_MS; ts = tso.tryAllocate())
      issued.push(ts);
    expect(issued.length).toBeGreaterThan(0);
    expect(Math.max(...issued.slice(-1).map((ts) => splitTs(ts).physicalMs))).toBeLessThan(boundBefore);
    expect(issued.every((ts, i) => i === 0 || ts > issued[i - 1]!)).toBe(true);
    // ...and the next allocation waits for the renewal.
    const waiting = tso.allocate(1);
    let done = false;
    void waiting.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    kv.releaseWrites();
    const ts = await waiting;
    expect(splitTs(ts).physicalMs).toBeGreaterThanOrEqual(boundBefore);
    expect(splitTs(ts).physicalMs).toBeLessThan(boundOf(kv));
  });

  it('waits for the next millisecond when the logical counter of the current one runs out', async () => {
    await using tso = await open();
    const first = await tso.allocate(LOGICAL_PER_MS - 1);
    expect(first).toBe(composeTs(1_000_000, 0));
    const next = tso.allocate(2);
    let resolved = false;
    void next.then(() => (resolved = true));
    await settle();
    expect(resolved).toBe(false);
    clock.advance(1);
    expect(splitTs(await next)).toEqual({ physicalMs: 1_000_001, logical: 0 });
  });

  it('stops issuing with FENCED when another allocator renewed the window', async () => {
    await using tso = await open(1000);
    kv.externalPut(KEY, '9999999');
    clock.advance(600);
    await settle();
    await settle();
    await expect(tso.allocate()).rejects.toMatchObject({ domain: 'tso', code: 'FENCED' });
    expect(tso.tryAllocate()).toBeUndefined();
  });

  it('rejects a count outside 1..262143 with INVALID_ARGUMENT', async () => {
    await using tso = await open();
    for (const count of [0, -1, 1.5, LOGICAL_PER_MS]) {
      await expect(tso.allocate(count)).rejects.toMatchObject({ domain: 'tso', code: 'INVALID_ARGUMENT' });
    }
  });

  it('refuses a persisted window that is not a number', async () => {
    kv.externalPut(KEY, 'yesterday');
    await expect(open()).rejects.toMatchObject({ domain: 'tso', code: 'INVALID_ARGUMENT' });
  });

  it('reports UNAVAILABLE when the window cannot be read or written on open', async () => {
    kv.failWrites = true;
    await expect(open()).rejects.toMatchObject({ domain: 'tso', code: 'UNAVAILABLE' });
  });

  it('rejects allocations after close with CLOSED', async () => {
    const tso = await open();
    await tso.close();
    await expect(tso.allocate()).rejects.toMatchObject({ domain: 'tso', code: 'CLOSED' });
  });
});
