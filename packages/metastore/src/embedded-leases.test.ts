import { ManualClock, noopLogger } from '@streamsvc/common';

import { EmbeddedLease, LeaseTable } from './embedded-leases.js';

const handle = (id: bigint): EmbeddedLease => new EmbeddedLease(String(id), 1000, async () => {});
const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('LeaseTable', () => {
  it('sleeps only until the earliest deadline and re-arms when an earlier lease arrives', async () => {
    const clock = new ManualClock(0);
    const expired: bigint[] = [];
    const table = new LeaseTable(
      clock,
      async (id) => {
        expired.push(id);
        table.remove(id, () => ({ reason: 'expired' }));
      },
      noopLogger,
    );
    table.add(1n, 5000, false, handle(1n));
    table.add(2n, 2000, false, handle(2n));
    expect(clock.pendingSleeps).toBe(1);
    clock.advance(1999);
    await flush();
    expect(expired).toEqual([]);
    clock.advance(1);
    await flush();
    expect(expired).toEqual([2n]);
    clock.advance(3000);
    await flush();
    expect(expired).toEqual([2n, 1n]);
    expect(table.size).toBe(0);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('arms no timer for kept-alive leases; released, one expires a TTL later', async () => {
    const clock = new ManualClock(0);
    const expired: bigint[] = [];
    const table = new LeaseTable(clock, async (id) => void expired.push(id), noopLogger);
    table.add(1n, 1000, true, handle(1n));
    expect(clock.pendingSleeps).toBe(0);
    clock.advance(10_000);
    table.release(1n);
    clock.advance(999);
    await flush();
    expect(expired).toEqual([]);
    clock.advance(1);
    await flush();
    expect(expired).toEqual([1n]);
  });

  it('retries a failed expiry a second later instead of forgetting the lease', async () => {
    const clock = new ManualClock(0);
    let attempts = 0;
    const table = new LeaseTable(
      clock,
      async (id) => {
        if (++attempts === 1) throw new Error('disk full');
        table.remove(id, () => ({ reason: 'expired' }));
      },
      noopLogger,
    );
    const h = handle(1n);
    table.add(1n, 1000, false, h);
    clock.advance(1000);
    await flush();
    expect(attempts).toBe(1);
    expect(h.isLost).toBe(false);
    clock.advance(1000);
    await flush();
    expect(attempts).toBe(2);
    expect(await h.lost).toEqual({ reason: 'expired' });
  });

  it('settles handles with closed on close and with closed when added after close', async () => {
    const clock = new ManualClock(0);
    const table = new LeaseTable(clock, async () => {}, noopLogger);
    const a = handle(1n);
    table.add(1n, 1000, false, a);
    table.close();
    expect(await a.lost).toEqual({ reason: 'closed' });
    expect(clock.pendingSleeps).toBe(0);
    const b = handle(2n);
    table.add(2n, 1000, false, b);
    expect(await b.lost).toEqual({ reason: 'closed' });
  });
});
