import { MessageBuilder, MessageType, counterMessageIdCodec } from '@streamsvc/message';
import type { AnyImmutableMessage, ImmutableMessage, MutableMessage } from '@streamsvc/message';
import { composeTs } from '@streamsvc/tso';

import { ReorderBuffer } from './reorder-buffer.js';
import { TxnBuffer } from './txn-buffer.js';
import { passes, validateFilters } from './deliver-filter.js';

const ids = counterMessageIdCodec('test');
const V = 'test-dml_0_1v0';
let offset = 0n;
const at = (ms: number, logical = 0): bigint => composeTs(1_700_000_000_000 + ms, logical);
const store = (m: MutableMessage, tt: bigint, id = offset++): ImmutableMessage =>
  m.withTimeTick(tt).withLastConfirmed(ids.of(0n)).intoImmutable(ids.of(id));
const data = (tt: bigint, txnId?: bigint): AnyImmutableMessage & ImmutableMessage => {
  const m = MessageBuilder.data(new Uint8Array([1]))
    .vchannel(V)
    .build();
  if (txnId !== undefined) m.withTxnContext({ txnId });
  return store(m, tt) as AnyImmutableMessage & ImmutableMessage;
};
const tick = (tt: bigint): AnyImmutableMessage & ImmutableMessage =>
  store(MessageBuilder.timeTick().build(), tt) as AnyImmutableMessage & ImmutableMessage;
const begin = (tt: bigint, keepaliveMs: number): ImmutableMessage =>
  store(
    MessageBuilder.beginTxn().header({ keepaliveMs }).vchannel(V).build().withTxnContext({ txnId: tt, keepaliveMs }),
    tt,
  );
const commit = (tt: bigint, txnId: bigint): ImmutableMessage =>
  store(MessageBuilder.commitTxn().vchannel(V).build().withTxnContext({ txnId }), tt);
const rollback = (tt: bigint, txnId: bigint): ImmutableMessage =>
  store(MessageBuilder.rollbackTxn().vchannel(V).build().withTxnContext({ txnId }), tt);

describe('ReorderBuffer', () => {
  it('releases what a tick covers in tt order and keeps the rest', () => {
    const buf = new ReorderBuffer();
    for (const tt of [5n, 2n, 9n, 3n]) buf.push(data(tt));
    expect(buf.release(5n).map((m) => m.timeTick)).toEqual([2n, 3n, 5n]);
    expect(buf.size).toBe(1);
    expect(buf.release(10n).map((m) => m.timeTick)).toEqual([9n]);
  });

  it('ignores a second copy of the same record', () => {
    const buf = new ReorderBuffer();
    const m = data(4n);
    buf.push(m);
    buf.push(m);
    expect(buf.release(4n)).toHaveLength(1);
  });
});

describe('TxnBuffer', () => {
  it('turns begin, body and commit into one Txn message at the commit tick', () => {
    const txns = new TxnBuffer();
    const b = begin(at(0), 1000);
    expect(txns.process(b)).toBeUndefined();
    expect(txns.process(data(at(1), at(0)))).toBeUndefined();
    expect(txns.process(data(at(2), at(0)))).toBeUndefined();
    const out = txns.process(commit(at(3), at(0)));
    expect(out?.type).toBe(MessageType.Txn);
    expect(out?.timeTick).toBe(at(3));
    expect(out?.type === MessageType.Txn && out.body.map((m) => m.timeTick)).toEqual([at(3), at(3)]);
  });

  it('drops rolled-back transactions and expires abandoned ones on a later tick', () => {
    const txns = new TxnBuffer();
    txns.process(begin(at(0), 1000));
    txns.process(data(at(1), at(0)));
    txns.process(rollback(at(2), at(0)));
    expect(txns.process(commit(at(3), at(0)))).toBeUndefined();
    txns.process(begin(at(10), 100));
    expect(txns.openCount).toBe(1);
    txns.process(tick(at(50)));
    expect(txns.openCount).toBe(1);
    txns.process(tick(at(110)));
    expect(txns.openCount).toBe(0);
  });

  it('passes non-txn messages and ticks straight through', () => {
    const txns = new TxnBuffer();
    const m = data(at(1));
    expect(txns.process(m)).toBe(m);
  });
});

describe('deliver filters', () => {
  it('applies time-tick filters to every message and type filters to non-system ones only', () => {
    const m = data(10n);
    expect(passes(m, [{ kind: 'timeTickGt', tt: 9n }])).toBe(true);
    expect(passes(m, [{ kind: 'timeTickGt', tt: 10n }])).toBe(false);
    expect(passes(m, [{ kind: 'timeTickGte', tt: 10n }])).toBe(true);
    expect(passes(m, [{ kind: 'messageType', types: [MessageType.Insert] }])).toBe(false);
    expect(passes(tick(11n), [{ kind: 'messageType', types: [MessageType.Insert] }])).toBe(true);
  });

  it('rejects a type filter naming a system type or no type', () => {
    expect(() => validateFilters([{ kind: 'messageType', types: [MessageType.TimeTick] }])).toThrow(/system types/);
    expect(() => validateFilters([{ kind: 'messageType', types: [] }])).toThrow(/no type/);
  });
});
