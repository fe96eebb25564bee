import type { Clock } from '@streamsvc/common';

import { IdleSyncWrites, SLOW_SYNC_WRITE_MS, SYNC_WRITE_PAUSE_MS } from './idle-sync-writes.js';

/** A clock the test moves by hand, also from inside a write. */
function handClock(): Clock & { now: number } {
  const clock = {
    now: 1_000,
    nowMs: () => clock.now,
    sleep: () => Promise.resolve(),
  };
  return clock;
}

describe('idle sync writes', () => {
  it('allows blocks up to the size limit, none when the limit is 0', () => {
    const clock = handClock();
    const writes = new IdleSyncWrites(64, clock);
    expect(writes.allows(64)).toBe(true);
    expect(writes.allows(65)).toBe(false);
    expect(new IdleSyncWrites(0, clock).allows(1)).toBe(false);
  });

  it('pauses after a write slower than the limit, for the pause, and not after a fast one', () => {
    const clock = handClock();
    const writes = new IdleSyncWrites(64, clock);
    expect(writes.run(() => (clock.now += SLOW_SYNC_WRITE_MS))).toBe(1_000 + SLOW_SYNC_WRITE_MS);
    expect(writes.allows(1)).toBe(true);
    writes.run(() => (clock.now += SLOW_SYNC_WRITE_MS + 1));
    expect(writes.allows(1)).toBe(false);
    clock.now += SYNC_WRITE_PAUSE_MS - 1;
    expect(writes.allows(1)).toBe(false);
    clock.now += 1;
    expect(writes.allows(1)).toBe(true);
  });

  it('pauses after a slow write that failed, and passes its error on', () => {
    const clock = handClock();
    const writes = new IdleSyncWrites(64, clock);
    const error = new Error('EIO');
    expect(() =>
      writes.run(() => {
        clock.now += 10;
        throw error;
      }),
    ).toThrow(error);
    expect(writes.allows(1)).toBe(false);
  });
});
