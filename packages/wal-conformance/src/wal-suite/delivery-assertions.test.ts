import { counterMessageIdCodec, ImmutableTxnMessage, MessageBuilder } from '@streamsvc/message';
import type { AnyImmutableMessage, ImmutableMessage, MutableMessage } from '@streamsvc/message';
import {
  assertDelivered,
  assertSameDelivery,
  assertStrictlyIncreasingTt,
  withoutVolatileTicks,
} from './delivery-assertions.js';
import { ExpectedLog } from './expected-log.js';
import { beginTxn, commitTxn, data, insert } from './messages.js';

const ids = counterMessageIdCodec('test');
const v = 'unit-dml_0_1v0';
let offset = 0n;

/** `message` as a WAL would have stored it at time tick `tt`. */
function stored(message: MutableMessage, tt: bigint): ImmutableMessage {
  return message.clone().withTimeTick(tt).withLastConfirmedSelf().intoImmutable(ids.of(offset++));
}

function tick(tt: bigint, persisted = true): AnyImmutableMessage {
  const m = MessageBuilder.timeTick().build();
  return stored(persisted ? m : m.withNotPersisted(), tt) as AnyImmutableMessage;
}

/** A committed txn: BeginTxn at `tt`, bodies at tt+1.., commit after them. */
function txn(key: string, tt: bigint, bodies: MutableMessage[]): { delivered: AnyImmutableMessage; commitTt: bigint } {
  const txnId = tt;
  const begin = stored(beginTxn(v, 1000, `${key}/begin`).withTxnContext({ txnId, keepaliveMs: 1000 }), tt);
  const parts = bodies.map((b, i) => stored(b.clone().withTxnContext({ txnId }), tt + BigInt(i) + 1n));
  const commitTt = tt + BigInt(bodies.length) + 1n;
  const commit = stored(commitTxn(v, txnId, `${key}/commit`), commitTt);
  return { delivered: ImmutableTxnMessage.assemble(begin, parts, commit), commitTt };
}

describe('ExpectedLog and assertDelivered', () => {
  const a = data(v, 'a');
  const b = insert(v, 1n, 'b');
  const bodies = [data(v, 't/b0'), insert(v, 2n, 't/b1')];

  function expectedLog(): ExpectedLog {
    const log = new ExpectedLog();
    // Recorded out of order, as concurrent writers would: entries() sorts by time tick.
    log.txn(v, { message: commitTxn(v, 10n, 't/commit'), timeTick: 13n }, [
      { message: bodies[1]!, timeTick: 12n },
      { message: bodies[0]!, timeTick: 11n },
    ]);
    log.single(v, { message: b, timeTick: 20n });
    log.single(v, { message: a, timeTick: 5n });
    return log;
  }

  it('accepts exactly the expected messages in time-tick order, TimeTicks aside', () => {
    const { delivered } = txn('t', 10n, bodies);
    const got = [
      tick(4n),
      stored(a, 5n) as AnyImmutableMessage,
      delivered,
      tick(14n),
      stored(b, 20n) as AnyImmutableMessage,
    ];
    expect(() => assertDelivered(got, expectedLog().entries(v), 'reader')).not.toThrow();
  });

  it('names what is missing and what came twice when the counts differ', () => {
    const got = [stored(a, 5n), stored(a, 5n)] as AnyImmutableMessage[];
    expect(() => assertDelivered(got, expectedLog().entries(v), 'reader')).toThrow(
      /reader: delivered 2 messages but 3 were expected; missing \[t\/commit, b\], unexpected none, duplicated \[a\]/,
    );
  });

  it('fails on a message whose payload or properties differ from what was appended', () => {
    const { delivered } = txn('t', 10n, bodies);
    const changed = stored(data(v, 'a', { extra: '1' }), 5n) as AnyImmutableMessage;
    expect(() =>
      assertDelivered([changed, delivered, stored(b, 20n) as AnyImmutableMessage], expectedLog().entries(v), 'r'),
    ).toThrow(/r: message 0 differs/);
  });

  it('fails on a transaction that lost a body message', () => {
    const { delivered } = txn('t', 10n, [bodies[0]!]);
    const got = [stored(a, 5n) as AnyImmutableMessage, delivered, stored(b, 20n) as AnyImmutableMessage];
    expect(() => assertDelivered(got, expectedLog().entries(v), 'r')).toThrow(/r: message 1 differs/);
  });
});

describe('assertStrictlyIncreasingTt', () => {
  it('accepts strictly increasing time ticks and rejects a repeated one, naming both messages', () => {
    expect(() =>
      assertStrictlyIncreasingTt([tick(1n), stored(data(v, 'x'), 2n) as AnyImmutableMessage, tick(3n)], 'r'),
    ).not.toThrow();
    expect(() => assertStrictlyIncreasingTt([tick(1n), stored(data(v, 'x'), 1n) as AnyImmutableMessage], 'r')).toThrow(
      /r: message 1 \(Data x @1\) does not come after message 0 \(TimeTick .* @1\)/,
    );
  });
});

describe('assertSameDelivery and withoutVolatileTicks', () => {
  it('compares persisted ticks too, and ignores ticks kept in memory only', () => {
    const x = stored(data(v, 'x'), 2n) as AnyImmutableMessage;
    const persisted = tick(3n);
    const full = [x, tick(2n, false), persisted];
    expect(withoutVolatileTicks(full)).toEqual([x, persisted]);
    expect(() => assertSameDelivery(withoutVolatileTicks(full), [x, persisted], 'r')).not.toThrow();
    expect(() => assertSameDelivery([x], [x, persisted], 'r')).toThrow(/r: message 1 differs \(read 1, expected 2\)/);
  });
});
