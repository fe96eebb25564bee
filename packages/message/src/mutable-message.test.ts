import { expectMessageError, insertMessage, memoryIds, VCHANNEL, woodpeckerIds } from '../test/support/fixtures.js';
import { counterMessageIdCodec } from './counter-message-id.js';
import { ImmutableMessage } from './immutable-message.js';
import { MessageBuilder } from './message-builder.js';
import { MessageType } from './message-type.js';
import { MutableMessage } from './mutable-message.js';

const data = () =>
  MessageBuilder.data(new Uint8Array([1]))
    .vchannel(VCHANNEL)
    .build();

describe('MutableMessage WAL-side stamps', () => {
  it('sets each stamp with its documented encoding and returns the message for chaining', () => {
    const lc = memoryIds.of(7n);
    const msg = data().withTimeTick(1000n).withWalTerm(3n).withLastConfirmed(lc).withBarrierTimeTick(999n);
    expect(msg.timeTick).toBe(1000n);
    expect(msg.properties.get('_tt')).toBe(1000n.toString(36));
    expect(msg.walTerm).toBe(3n);
    expect(msg.properties.get('_wt')).toBe('3');
    expect(msg.barrierTimeTick).toBe(999n);
    expect(msg.properties.get('_btt')).toBe('rr');
    expect(msg.properties.get('_lc')).toBe('v1:7');
  });

  it('stamps each message with the text of the last-confirmed id it is given, one id after another', () => {
    const [a, b] = [woodpeckerIds.of(1n, 2n), woodpeckerIds.of(1n, 3n)];
    const stamped = [a, a, b, a].map((id) => data().withLastConfirmed(id).properties.get('_lc'));
    expect(stamped).toEqual(['v1:1:2', 'v1:1:2', 'v1:1:3', 'v1:1:2']);
  });

  it.each([
    ['withTimeTick', (m: MutableMessage) => m.withTimeTick(5n)],
    ['withWalTerm', (m: MutableMessage) => m.withWalTerm(5n)],
    ['withBarrierTimeTick', (m: MutableMessage) => m.withBarrierTimeTick(5n)],
    ['withLastConfirmed', (m: MutableMessage) => m.withLastConfirmed(memoryIds.of(5n))],
    ['withLastConfirmedSelf', (m: MutableMessage) => m.withLastConfirmedSelf()],
    ['withTxnContext', (m: MutableMessage) => m.withTxnContext({ txnId: 5n })],
  ])('%s may be called only once (PROPERTY_ALREADY_SET)', (_name, stamp) => {
    const msg = data();
    stamp(msg);
    const before = new Map(msg.properties);
    expect(expectMessageError(() => stamp(msg), 'PROPERTY_ALREADY_SET')).toContain('can be set only once');
    expect(msg.properties).toEqual(before);
  });

  it('names the property and its current value when a stamp is repeated', () => {
    const msg = data().withTimeTick(36n);
    const text = expectMessageError(() => msg.withTimeTick(37n), 'PROPERTY_ALREADY_SET');
    expect(text).toContain('time tick (_tt)');
    expect(text).toContain('"10"');
    expect(text).toContain('Data message');
  });

  it('allows one last-confirmed id: _lc and _lcs exclude each other', () => {
    expectMessageError(
      () => data().withLastConfirmedSelf().withLastConfirmed(memoryIds.of(1n)),
      'PROPERTY_ALREADY_SET',
    );
    expectMessageError(
      () => data().withLastConfirmed(memoryIds.of(1n)).withLastConfirmedSelf(),
      'PROPERTY_ALREADY_SET',
    );
  });

  it('marks only TimeTick messages as not persisted, once', () => {
    const tick = MessageBuilder.timeTick().build().withNotPersisted();
    expect(tick.notPersisted).toBe(true);
    expect(tick.properties.get('_np')).toBe('');
    expectMessageError(() => tick.withNotPersisted(), 'PROPERTY_ALREADY_SET');
    expect(expectMessageError(() => data().withNotPersisted(), 'INVALID_MESSAGE')).toContain('not Data');
    expect(data().notPersisted).toBe(false);
  });

  it('rejects out-of-range stamps with INVALID_MESSAGE', () => {
    expectMessageError(() => data().withTimeTick(-1n), 'INVALID_MESSAGE');
    expectMessageError(() => data().withTimeTick(1n << 64n), 'INVALID_MESSAGE');
    expectMessageError(() => data().withWalTerm(0n), 'INVALID_MESSAGE');
    expectMessageError(() => data().withTxnContext({ txnId: -1n }), 'INVALID_MESSAGE');
    expectMessageError(() => data().withTxnContext({ txnId: 1n, keepaliveMs: -5 }), 'INVALID_MESSAGE');
  });
});

describe('MutableMessage transactions', () => {
  it('attaches a txn context to txn bodies and txn control messages', () => {
    expect(data().withTxnContext({ txnId: 9n, keepaliveMs: 500 }).txnContext).toEqual({ txnId: 9n, keepaliveMs: 500 });
    expect(insertMessage().withTxnContext({ txnId: 9n }).txnContext).toEqual({ txnId: 9n, keepaliveMs: 0 });
    expect(MessageBuilder.commitTxn().vchannel(VCHANNEL).build().withTxnContext({ txnId: 9n }).txnContext?.txnId).toBe(
      9n,
    );
  });

  it('refuses a txn context on types that cannot be in a transaction (INVALID_MESSAGE)', () => {
    const ddl = MessageBuilder.dropCollection().header({ collectionId: 1n }).vchannel(VCHANNEL).build();
    expect(expectMessageError(() => ddl.withTxnContext({ txnId: 1n }), 'INVALID_MESSAGE')).toContain('DropCollection');
  });
});

describe('MutableMessage headers, copies and size', () => {
  it('lets the WAL overwrite the header, e.g. to assign segments, more than once', () => {
    const msg = insertMessage();
    const partitions = msg.header.partitions.map((p) => ({ ...p, segmentId: 77n }));
    msg.overwriteHeader({ ...msg.header, partitions });
    expect(msg.header.partitions[0]?.segmentId).toBe(77n);
    msg.overwriteHeader({ ...msg.header, collectionId: 5n });
    expect(msg.header.collectionId).toBe(5n);
    const back = MutableMessage.fromEnvelope(msg);
    expect(back.is(MessageType.Insert) && back.header.partitions[0]?.segmentId).toBe(77n);
  });

  it('rejects an overwritten header the wire type cannot hold (INVALID_MESSAGE)', () => {
    expectMessageError(() => insertMessage().overwriteHeader({ collectionId: 'x' }), 'INVALID_MESSAGE');
  });

  it('clones into an independent message that keeps existing stamps', () => {
    const original = data().withWalTerm(2n);
    const copy = original.clone().withTimeTick(10n);
    expect(copy.walTerm).toBe(2n);
    expect(original.timeTick).toBeUndefined();
    original.withTimeTick(11n);
    expect(copy.timeTick).toBe(10n);
  });

  it('estimates its size as payload plus UTF-8 property bytes', () => {
    const msg = MessageBuilder.data(new Uint8Array(10)).vchannel(VCHANNEL).properties({ k: 'é' }).build();
    let props = 0;
    for (const [k, v] of msg.properties) props += Buffer.byteLength(k) + Buffer.byteLength(v);
    expect(msg.estimateSize()).toBe(10 + props);
    expect(Buffer.byteLength('é')).toBe(2);
  });

  it('keeps its cached size exact through stamps, header rewrites, clones and intoImmutable', () => {
    const exact = (m: { payload: Uint8Array; properties: ReadonlyMap<string, string> }): number => {
      let n = m.payload.byteLength;
      for (const [k, v] of m.properties) n += Buffer.byteLength(k) + Buffer.byteLength(v);
      return n;
    };
    const msg = insertMessage();
    expect(msg.estimateSize()).toBe(exact(msg));
    msg.withTimeTick(123456789n).withWalTerm(2n);
    expect(msg.estimateSize()).toBe(exact(msg));
    msg.overwriteHeader({ collectionId: 449n, partitions: [{ partitionId: 12345n, rows: 2, binarySize: 40 }] });
    expect(msg.estimateSize()).toBe(exact(msg));
    const copy = msg.clone().withLastConfirmed(memoryIds.of(77n));
    expect(copy.estimateSize()).toBe(exact(copy));
    expect(msg.estimateSize()).toBe(exact(msg));
    const stored = copy.intoImmutable(memoryIds.of(78n));
    expect(stored.estimateSize()).toBe(exact(stored));
  });

  it('narrows its type with is()', () => {
    const msg: MutableMessage = insertMessage();
    expect(msg.is(MessageType.Delete)).toBe(false);
    if (msg.is(MessageType.Insert)) expect(msg.header.collectionId).toBe(449n);
    else throw new Error('expected an Insert');
  });
});

describe('MutableMessage.intoImmutable', () => {
  it('makes an immutable copy with the backend id, tt and last-confirmed id', () => {
    const msg = data().withTimeTick(5n).withLastConfirmed(memoryIds.of(3n));
    const stored = msg.intoImmutable(memoryIds.of(4n));
    expect(stored).toBeInstanceOf(ImmutableMessage);
    expect(stored.id.toString()).toBe('v1:4');
    expect(stored.timeTick).toBe(5n);
    expect(stored.lastConfirmed.toString()).toBe('v1:3');
    expect(stored.walName).toBe('memory');
  });

  it('resolves _lcs to the message own id', () => {
    const stored = data().withTimeTick(5n).withLastConfirmedSelf().intoImmutable(memoryIds.of(4n));
    expect(stored.lastConfirmed.toString()).toBe('v1:4');
  });

  it('parses a textual _lc with the codec when the message came from an envelope', () => {
    const fromWire = MutableMessage.fromEnvelope(data().withTimeTick(5n).withLastConfirmed(memoryIds.of(3n)));
    expect(fromWire.intoImmutable(memoryIds.of(4n), memoryIds).lastConfirmed.toString()).toBe('v1:3');
    expect(expectMessageError(() => fromWire.intoImmutable(memoryIds.of(4n)), 'INVALID_MESSAGE')).toContain(
      'MessageIdCodec',
    );
    expectMessageError(() => fromWire.intoImmutable(memoryIds.of(4n), counterMessageIdCodec('kafka')), 'WAL_MISMATCH');
  });

  it('is unaffected by later changes to the mutable message', () => {
    const msg = data().withTimeTick(5n).withLastConfirmedSelf();
    const stored = msg.intoImmutable(memoryIds.of(1n));
    msg.withWalTerm(9n);
    expect(stored.walTerm).toBeUndefined();
  });

  it('shares the property map until the next change, which copies it (copy-on-write)', () => {
    const msg = insertMessage().withTimeTick(5n).withLastConfirmedSelf();
    const snapshot = msg.snapshot();
    const first = msg.intoImmutable(memoryIds.of(1n));
    expect(first.properties).toBe(snapshot.properties);
    msg.overwriteHeader({ collectionId: 449n, partitions: [{ partitionId: 3n, rows: 2, binarySize: 40 }] });
    msg.withWalTerm(9n);
    const second = msg.intoImmutable(memoryIds.of(2n));
    expect(snapshot.properties.has('_wt')).toBe(false);
    expect(first.header.partitions[0]!.partitionId).toBe(1n);
    expect(second.header.partitions[0]!.partitionId).toBe(3n);
    expect(second.walTerm).toBe(9n);
    expect(first.timeTick).toBe(5n);
  });

  it('requires a time tick and a last-confirmed id (INVALID_MESSAGE)', () => {
    expect(
      expectMessageError(() => data().withLastConfirmedSelf().intoImmutable(memoryIds.of(1n)), 'INVALID_MESSAGE'),
    ).toContain('_tt');
    expect(
      expectMessageError(() => data().withTimeTick(1n).intoImmutable(memoryIds.of(1n)), 'INVALID_MESSAGE'),
    ).toContain('_lcs');
  });

  it('refuses a last-confirmed id from another wal (WAL_MISMATCH)', () => {
    const msg = data().withTimeTick(1n).withLastConfirmed(woodpeckerIds.of(0n, 1n));
    expectMessageError(() => msg.intoImmutable(memoryIds.of(1n)), 'WAL_MISMATCH');
  });
});

describe('message constructors', () => {
  it('cannot be called directly to skip validation', () => {
    const bogus = new Map([['_t', '2']]);
    expect(() => new MutableMessage(undefined as never, new Uint8Array(), bogus, MessageType.Insert)).toThrow(
      TypeError,
    );
    expect(
      () =>
        new ImmutableMessage(
          undefined as never,
          { payload: new Uint8Array(), props: bogus, type: 2 },
          memoryIds.of(0n),
          memoryIds.of(0n),
        ),
    ).toThrow('use MessageBuilder');
  });
});
