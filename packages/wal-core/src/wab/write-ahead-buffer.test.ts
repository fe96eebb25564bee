import { ManualClock } from '@streamsvc/common';
import { MessageBuilder, counterMessageIdCodec } from '@streamsvc/message';
import type { ImmutableMessage } from '@streamsvc/message';

import { WriteAheadBuffer } from './write-ahead-buffer.js';

const ids = counterMessageIdCodec('test');
const V = 'test-dml_0_1v0';
let offset = 0n;

function stored(tt: bigint, bytes = 10): ImmutableMessage {
  return MessageBuilder.data(new Uint8Array(bytes))
    .vchannel(V)
    .build()
    .withTimeTick(tt)
    .withLastConfirmed(ids.of(0n))
    .intoImmutable(ids.of(offset++));
}
function tick(tt: bigint, persisted = true): ImmutableMessage {
  const m = MessageBuilder.timeTick().build().withTimeTick(tt).withLastConfirmed(ids.of(0n));
  if (!persisted) m.withNotPersisted();
  return m.intoImmutable(ids.of(offset++));
}
const tts = async (cursor: ReturnType<WriteAheadBuffer['readAfter']>, n: number): Promise<(bigint | string)[]> => {
  const out: (bigint | string)[] = [];
  while (out.length < n) {
    const r = await cursor!.next(undefined, 1);
    if (r === undefined || r.kind === 'evicted') out.push(r === undefined ? 'closed' : 'evicted');
    else out.push(...r.messages.map((m) => m.timeTick));
  }
  return out;
};

describe('WriteAheadBuffer', () => {
  it('serves everything after a tick in tt order, data before its tick', async () => {
    const wab = new WriteAheadBuffer(tick(10n));
    wab.push([stored(11n), stored(12n)], tick(13n));
    wab.push([stored(14n)], tick(15n));
    expect(await tts(wab.readAfter(10n), 5)).toEqual([11n, 12n, 13n, 14n, 15n]);
    expect(await tts(wab.readAfter(13n), 2)).toEqual([14n, 15n]);
  });

  it('keeps idle ticks out of the queue but hands the newest one to readers at the end', async () => {
    const wab = new WriteAheadBuffer(tick(10n));
    wab.push([], tick(11n, false));
    wab.push([], tick(12n, false));
    expect(wab.length).toBe(0);
    const cursor = wab.readAfter(10n);
    expect(await tts(cursor, 1)).toEqual([12n]);
    const waiting = cursor!.next();
    wab.push([stored(13n)], tick(14n));
    expect(await waiting).toMatchObject({ kind: 'messages' });
  });

  it('evicts by size and age but never the newest entry, and reports readers that fell behind', async () => {
    const clock = new ManualClock();
    const wab = new WriteAheadBuffer(tick(10n), { capacityBytes: 4000, keepaliveMs: 1000, clock });
    const slow = wab.readAfter(10n)!;
    for (let tt = 11n; tt < 40n; tt += 2n) wab.push([stored(tt, 30)], tick(tt + 1n));
    expect(wab.bytes).toBeLessThanOrEqual(4000);
    expect(wab.floorTt > 10n).toBe(true);
    expect(await slow.next()).toEqual({ kind: 'evicted' });
    expect(wab.readAfter(10n)).toBeUndefined();
    clock.advance(5000);
    wab.push([], tick(100n, false));
    expect(wab.length).toBe(1);
  });

  it('does not repeat what a reader saw in the backend before the buffer got it', async () => {
    // A catch-up reader read the persisted tick 14 from the backend while the sync was still pushing
    // that group: its cursor starts after 14 although the buffer's last tick is 10.
    const wab = new WriteAheadBuffer(tick(10n));
    const cursor = wab.readAfter(14n)!;
    const waiting = tts(cursor, 2);
    wab.push([stored(11n), stored(12n)], tick(14n));
    wab.push([stored(15n)], tick(16n));
    expect(await waiting).toEqual([15n, 16n]);
  });

  it('refuses a group that would break time-tick order', () => {
    const wab = new WriteAheadBuffer(tick(10n));
    expect(() => wab.push([stored(12n), stored(11n)], tick(13n))).toThrow(/breaks time-tick order/);
    expect(() => wab.push([stored(9n)], tick(13n))).toThrow(/breaks time-tick order/);
  });

  it('ends waiting readers when closed', async () => {
    const wab = new WriteAheadBuffer(tick(10n));
    const cursor = wab.readAfter(10n)!;
    const waiting = cursor.next();
    wab.close();
    expect(await waiting).toBeUndefined();
  });
});
