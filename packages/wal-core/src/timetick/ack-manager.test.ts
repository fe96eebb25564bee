import fc from 'fast-check';
import { counterMessageIdCodec } from '@streamsvc/message';
import type { ImmutableMessage } from '@streamsvc/message';

import { AckManager } from './ack-manager.js';
import type { Acker, TimestampSource } from './ack-manager.js';

const ids = counterMessageIdCodec('test');

/** A timestamp source counting up from 100, refilling instantly. */
function counter(start = 100n): TimestampSource & { next: bigint } {
  const source = {
    next: start,
    tryAllocate: () => source.next++,
    refill: async () => {},
  };
  return source;
}

describe('AckManager', () => {
  it('confirms a tick only once every allocation at or below it is acknowledged, whatever the ack order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), async (order) => {
        const acks = new AckManager(counter(), 99n, ids.of(0n));
        const ackers: Acker[] = [];
        for (let i = 0; i < order.length; i++) ackers.push(await acks.allocate());
        const pending = [...ackers];
        const done = new Set<bigint>();
        for (const pick of order) {
          const acker = pending.splice(pick % pending.length, 1)[0]!;
          acks.ack(acker);
          done.add(acker.tt);
          // lastConfirmedTt is exactly the end of the longest acknowledged prefix.
          let expected = 99n;
          for (const a of ackers) {
            if (!done.has(a.tt)) break;
            expected = a.tt;
          }
          expect(acks.lastConfirmedTt).toBe(expected);
          if (pending.length === 0) break;
        }
      }),
    );
  });

  it('hands out strictly increasing ticks and the last-confirmed id at allocation time', async () => {
    const acks = new AckManager(counter(), 99n, ids.of(7n));
    const a = await acks.allocate();
    const b = await acks.allocate();
    expect(b.tt).toBeGreaterThan(a.tt);
    expect(a.lastConfirmed.equals(ids.of(7n))).toBe(true);
  });

  it('advances the last-confirmed id only past records with nothing earlier still in flight', async () => {
    const acks = new AckManager(counter(), 99n, ids.of(0n));
    const slow = await acks.allocate(); // tt 100, will be stored at offset 1 but acks late
    const fast = await acks.allocate(); // tt 101, stored at offset 2
    acks.ack(fast, { message: fakeMessage(2n, fast.tt) });
    expect(acks.lastConfirmedId.equals(ids.of(0n))).toBe(true);
    acks.ack(slow, { message: fakeMessage(1n, slow.tt) });
    // Both acked, and everything allocated by then (up to tt 101) is acknowledged: both fold in.
    expect(acks.lastConfirmedId.equals(ids.of(2n))).toBe(true);
  });

  it('keeps the last-confirmed id at an open transaction until it is done', async () => {
    const acks = new AckManager(counter(), 99n, ids.of(0n));
    let open = true;
    const txn = { isDoneAt: () => !open };
    const begin = await acks.allocate();
    acks.ack(begin, { message: fakeMessage(1n, begin.tt), txn });
    const other = await acks.allocate();
    acks.ack(other, { message: fakeMessage(2n, other.tt) });
    await acks.syncTick();
    expect(acks.lastConfirmedId.equals(ids.of(0n))).toBe(true);
    open = false;
    acks.refreshLastConfirmed();
    expect(acks.lastConfirmedId.equals(ids.of(2n))).toBe(true);
  });

  it('never moves the last-confirmed id past an open txn whose BeginTxn was acknowledged after a later record', async () => {
    const acks = new AckManager(counter(), 99n, ids.of(0n));
    const txn = { isDoneAt: () => false };
    const begin = await acks.allocate(); // stored at offset 1
    const later = await acks.allocate(); // stored at offset 2, acknowledged first
    acks.ack(later, { message: fakeMessage(2n, later.tt) });
    const inFlight = await acks.allocate();
    acks.ack(begin, { message: fakeMessage(1n, begin.tt), txn });
    acks.ack(inFlight);
    await acks.syncTick();
    expect(acks.lastConfirmedId.equals(ids.of(0n))).toBe(true);
    expect(acks.takeConfirmed()?.lastConfirmed.equals(ids.of(0n)) ?? true).toBe(true);
  });

  it('returns the successful appends below a tick, sorted by tick, exactly once', async () => {
    const acks = new AckManager(counter(), 99n, ids.of(0n));
    const a = await acks.allocate();
    const b = await acks.allocate();
    const failed = await acks.allocate();
    acks.ack(b, { message: fakeMessage(1n, b.tt) });
    acks.ack(failed);
    let published = false;
    const pending = acks.syncTick().then((step) => ((published = true), step));
    await Promise.resolve();
    expect(published).toBe(false); // a is still in flight: the tick waits for it
    acks.ack(a, { message: fakeMessage(2n, a.tt) });
    const step = await pending;
    expect(step?.confirmed.map((m) => m.timeTick)).toEqual([a.tt, b.tt]);
    const again = await acks.syncTick();
    expect(again?.confirmed).toEqual([]);
  });

  it('publishes what is confirmed below an append in flight at once, under a tick between the two', async () => {
    const acks = new AckManager(counter(), 99n, ids.of(0n));
    const a = await acks.allocate();
    const b = await acks.allocate();
    const c = await acks.allocate();
    acks.ack(b, { message: fakeMessage(2n, b.tt) });
    expect(acks.takeConfirmed()).toBeUndefined(); // a is still in flight
    acks.ack(a, { message: fakeMessage(1n, a.tt) });
    const step = acks.takeConfirmed()!;
    expect(step.confirmed.map((m) => m.timeTick)).toEqual([a.tt, b.tt]);
    expect(step.tt).toBeGreaterThan(b.tt);
    expect(step.tt).toBeLessThan(c.tt); // c, in flight, comes after the tick
    expect(acks.takeConfirmed()).toBeUndefined();
    acks.ack(c, { message: fakeMessage(3n, c.tt) });
    expect(acks.takeConfirmed()!.confirmed.map((m) => m.timeTick)).toEqual([c.tt]);
  });

  it('takes no tick at a boundary whose next tt the TSO could still hand out (end of its block)', async () => {
    let block = [200n];
    const source: TimestampSource = {
      tryAllocate: () => block.shift(),
      refill: async () => void (block = [201n, 202n, 203n]),
    };
    const acks = new AckManager(source, 100n, ids.of(0n));
    const a = await acks.allocate(); // 200, the last of its block: 201 is not reserved
    acks.ack(a, { message: fakeMessage(1n, a.tt) });
    expect(acks.takeConfirmed()).toBeUndefined();
    expect(acks.confirmedWaiting).toBe(true);
    const step = await acks.syncTick(); // a fresh tick publishes it instead
    expect(step.confirmed.map((m) => m.timeTick)).toEqual([200n]);
    expect(acks.confirmedWaiting).toBe(false);
  });

  it('ticks it publishes at once rise strictly, above what they publish and below every later allocation', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { minLength: 1, maxLength: 60 }), async (script) => {
        const acks = new AckManager(counter(), 99n, ids.of(0n));
        const inFlight: Acker[] = [];
        let lastTick = 99n;
        let lastPublished = 99n;
        let offset = 0n;
        for (const op of script) {
          if (op % 3 === 0 || inFlight.length === 0) {
            const acker = await acks.allocate();
            expect(acker.tt).toBeGreaterThan(lastTick);
            inFlight.push(acker);
          } else if (op % 3 === 1) {
            const acker = inFlight.splice(op % inFlight.length, 1)[0]!;
            acks.ack(acker, op % 5 === 0 ? {} : { message: fakeMessage(++offset, acker.tt) });
          } else {
            const step = acks.takeConfirmed();
            if (step === undefined) continue;
            expect(step.tt).toBeGreaterThan(lastTick);
            for (const m of step.confirmed) {
              expect(m.timeTick).toBeGreaterThan(lastPublished);
              expect(m.timeTick).toBeLessThan(step.tt);
              lastPublished = m.timeTick;
            }
            for (const pending of inFlight) expect(pending.tt).toBeGreaterThan(step.tt);
            lastTick = step.tt;
          }
        }
      }),
    );
  });

  it('waits for a barrier tick to be confirmed before allocating', async () => {
    const acks = new AckManager(counter(), 99n, ids.of(0n));
    const first = await acks.allocate();
    let allocated = false;
    const barrier = Promise.resolve(acks.allocate({ barrierTt: first.tt })).then((a) => ((allocated = true), a));
    await Promise.resolve();
    expect(allocated).toBe(false);
    acks.ack(first);
    expect((await barrier).tt).toBeGreaterThan(first.tt);
  });

  it('refills the source when it runs dry', async () => {
    let refills = 0;
    let block: bigint[] = [];
    const source: TimestampSource = {
      tryAllocate: () => block.shift(),
      refill: async () => {
        refills++;
        block = [500n + BigInt(refills) * 10n];
      },
    };
    const acks = new AckManager(source, 1n, ids.of(0n));
    expect((await acks.allocate()).tt).toBe(510n);
    expect(refills).toBe(1);
  });
});

/** Just what the ack manager reads of a stored message: its id and time tick. */
function fakeMessage(offset: bigint, tt: bigint): ImmutableMessage {
  return { id: ids.of(offset), timeTick: tt } as unknown as ImmutableMessage;
}
