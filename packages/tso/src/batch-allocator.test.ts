import { ManualClock, deferred } from '@streamsvc/common';

import { BatchTsoAllocator } from './batch-allocator.js';
import { TsoError } from './errors.js';
import type { TsoSource } from './global-allocator.js';

/** A source that hands out consecutive blocks starting at 1000 and counts its calls. */
class CountingSource implements TsoSource {
  next = 1000n;
  calls = 0;
  async allocate(count: number): Promise<bigint> {
    this.calls++;
    const first = this.next;
    this.next += BigInt(count);
    return first;
  }
}

describe('BatchTsoAllocator', () => {
  it('serves a whole block from one refill', async () => {
    const source = new CountingSource();
    const tso = new BatchTsoAllocator({ source, batchSize: 10, clock: new ManualClock() });
    const got = [];
    for (let i = 0; i < 10; i++) got.push(await tso.allocate());
    expect(got).toEqual([...Array(10).keys()].map((i) => 1000n + BigInt(i)));
    expect(source.calls).toBe(1);
    expect(await tso.allocate()).toBe(1010n);
    expect(source.calls).toBe(2);
  });

  it('drops a block older than maxStalenessMs so timestamps track wall time', async () => {
    const source = new CountingSource();
    const clock = new ManualClock();
    const tso = new BatchTsoAllocator({ source, batchSize: 100, maxStalenessMs: 50, clock });
    expect(await tso.allocate()).toBe(1000n);
    clock.advance(50);
    expect(await tso.allocate()).toBe(1001n);
    clock.advance(1);
    expect(await tso.allocate()).toBe(1100n);
    expect(source.calls).toBe(2);
  });

  it('shares one refill among concurrent callers', async () => {
    const gate = deferred<void>();
    let calls = 0;
    const source: TsoSource = {
      allocate: async (count) => {
        calls++;
        await gate.promise;
        return 5000n + BigInt(count) * BigInt(calls - 1);
      },
    };
    const tso = new BatchTsoAllocator({ source, batchSize: 100, clock: new ManualClock() });
    const all = Promise.all([tso.allocate(), tso.allocate(), tso.allocate()]);
    gate.resolve();
    expect((await all).sort()).toEqual([5000n, 5001n, 5002n]);
    expect(calls).toBe(1);
  });

  it('fetches a fresh block after sync()', async () => {
    const source = new CountingSource();
    const tso = new BatchTsoAllocator({ source, batchSize: 100, clock: new ManualClock() });
    await tso.allocate();
    tso.sync();
    expect(await tso.allocate()).toBe(1100n);
  });

  it('passes the source error through and rejects a bad batch size', async () => {
    const source: TsoSource = { allocate: () => Promise.reject(new TsoError('UNAVAILABLE', 'down')) };
    const tso = new BatchTsoAllocator({ source, clock: new ManualClock() });
    await expect(tso.allocate()).rejects.toMatchObject({ domain: 'tso', code: 'UNAVAILABLE' });
    expect(() => new BatchTsoAllocator({ source, batchSize: 0 })).toThrow(/batchSize/);
  });

  it('stops waiting for a refill when the signal aborts', async () => {
    const source: TsoSource = { allocate: () => new Promise(() => {}) };
    const tso = new BatchTsoAllocator({ source, clock: new ManualClock() });
    const ac = new AbortController();
    const p = tso.allocate({ signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});
