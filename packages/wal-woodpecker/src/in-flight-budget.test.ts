import { ManualClock } from '@streamsvc/common';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { InFlightBudget } from './in-flight-budget.js';

const settled = async (p: Promise<unknown>): Promise<string> => {
  const tag = await Promise.race([
    p.then(
      () => 'resolved',
      () => 'rejected',
    ),
    new Promise((r) => setImmediate(() => r('pending'))),
  ]);
  return tag as string;
};

describe('in-flight budget', () => {
  it('grants at once below the cap and makes later takers wait in order', async () => {
    const clock = new ManualClock();
    const budget = new InFlightBudget(100, 1000, clock);
    expect(budget.tryAcquire(60)).toBe(true);
    const big = budget.acquire(50, 'big');
    const small = budget.acquire(10, 'small');
    expect(budget.tryAcquire(1)).toBe(false); // no overtaking a waiter
    expect(await settled(big)).toBe('pending');
    expect(await settled(small)).toBe('pending');
    budget.release(60);
    expect(await settled(big)).toBe('resolved');
    expect(await settled(small)).toBe('resolved');
    expect(budget.used).toBe(60);
  });

  it('fails a wait with the retriable UNAVAILABLE after maxWaitMs, taking nothing', async () => {
    const clock = new ManualClock();
    const budget = new InFlightBudget(100, 1000, clock);
    budget.tryAcquire(100);
    const waiting = budget.acquire(10, 'append on pchannel "p"');
    clock.advance(999);
    expect(await settled(waiting)).toBe('pending');
    clock.advance(1);
    const e = await waiting.catch((x: unknown) => x);
    expect(WalError.is(e, WalErrorCode.UNAVAILABLE)).toBe(true);
    expect((e as WalError).retriable).toBe(true);
    expect(budget.used).toBe(100);
    expect(budget.waiting).toBe(0);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('rejects an aborted wait with the abort reason and lets the next waiter in', async () => {
    const clock = new ManualClock();
    const budget = new InFlightBudget(100, 1000, clock);
    budget.tryAcquire(95);
    const controller = new AbortController();
    const big = budget.acquire(50, 'big', controller.signal);
    const small = budget.acquire(5, 'small');
    expect(await settled(small)).toBe('pending');
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(big).rejects.toBe(reason);
    expect(await settled(small)).toBe('resolved');
    expect(budget.used).toBe(100);
  });
});
