import { expectMessageError, insertMessage, memoryIds, VCHANNEL } from '../test/support/fixtures.js';
import { counterMessageIdCodec } from './counter-message-id.js';
import { ImmutableMessage } from './immutable-message.js';
import { MessageBuilder } from './message-builder.js';
import { MessageType } from './message-type.js';

function stored(tt = 100n) {
  return insertMessage()
    .withTimeTick(tt)
    .withWalTerm(2n)
    .withLastConfirmed(memoryIds.of(3n))
    .intoImmutable(memoryIds.of(5n));
}

describe('ImmutableMessage', () => {
  it('exposes id, time tick, last-confirmed id, vchannel, type, header and body', () => {
    const msg = stored();
    expect(msg.id.toString()).toBe('v1:5');
    expect(msg.walName).toBe('memory');
    expect(msg.timeTick).toBe(100n);
    expect(msg.lastConfirmed.toString()).toBe('v1:3');
    expect(msg.walTerm).toBe(2n);
    expect(msg.vchannel).toBe(VCHANNEL);
    expect(msg.type).toBe(MessageType.Insert);
    expect(msg.header.collectionId).toBe(449n);
    expect(msg.body.numRows).toBe(2);
    expect(msg.txnContext).toBeUndefined();
    expect(msg.broadcastHeader).toBeUndefined();
    expect(msg.estimateSize()).toBeGreaterThan(msg.payload.byteLength);
  });

  it('keeps time ticks above 2^53 exact', () => {
    const tt = (1n << 63n) + 12345n;
    expect(stored(tt).timeTick).toBe(tt);
  });

  it('narrows its type with is()', () => {
    const msg: ImmutableMessage = stored();
    expect(msg.is(MessageType.Data)).toBe(false);
    expect(msg.is(MessageType.Insert) && msg.header.partitions.length).toBe(1);
  });

  it('is rebuilt from a backend envelope and id, parsing _lc with the codec', () => {
    const original = stored();
    const again = ImmutableMessage.fromEnvelope(
      { payload: original.payload, properties: original.properties },
      memoryIds.of(5n),
      memoryIds,
    );
    expect(again.lastConfirmed.equals(original.lastConfirmed)).toBe(true);
    expect(again.timeTick).toBe(original.timeTick);
    expect(again.header).toEqual(original.header);
  });

  it('does not alias the envelope properties it was rebuilt from', () => {
    const props = new Map(stored().properties);
    const again = ImmutableMessage.fromEnvelope(
      { payload: stored().payload, properties: props },
      memoryIds.of(5n),
      memoryIds,
    );
    props.set('user', 'changed');
    expect(again.userProperties.get('user')).toBe('x');
  });

  it('refuses envelopes without a time tick or last-confirmed id (INVALID_MESSAGE)', () => {
    const noTt = MessageBuilder.data(new Uint8Array(1)).vchannel(VCHANNEL).build().withLastConfirmedSelf();
    expect(
      expectMessageError(() => ImmutableMessage.fromEnvelope(noTt, memoryIds.of(1n), memoryIds), 'INVALID_MESSAGE'),
    ).toContain('_tt');
    const noLc = MessageBuilder.data(new Uint8Array(1)).vchannel(VCHANNEL).build().withTimeTick(1n);
    expectMessageError(() => ImmutableMessage.fromEnvelope(noLc, memoryIds.of(1n), memoryIds), 'INVALID_MESSAGE');
  });

  it('refuses a codec of another wal (WAL_MISMATCH) and a corrupt _lc (INVALID_MESSAGE_ID)', () => {
    const msg = stored();
    expectMessageError(
      () => ImmutableMessage.fromEnvelope(msg, memoryIds.of(5n), counterMessageIdCodec('kafka')),
      'WAL_MISMATCH',
    );
    const props = new Map(msg.properties).set('_lc', 'garbage');
    expectMessageError(
      () => ImmutableMessage.fromEnvelope({ payload: msg.payload, properties: props }, memoryIds.of(5n), memoryIds),
      'INVALID_MESSAGE_ID',
    );
  });

  it('reports a corrupt body lazily, on first access to body (INVALID_MESSAGE)', () => {
    const msg = stored();
    const corrupt = ImmutableMessage.fromEnvelope(
      { payload: new Uint8Array([0x0a, 0xff]), properties: msg.properties },
      memoryIds.of(5n),
      memoryIds,
    );
    expect(corrupt.is(MessageType.Insert) && corrupt.header.collectionId).toBe(449n);
    expect(expectMessageError(() => corrupt.body, 'INVALID_MESSAGE')).toContain('Insert body');
  });
});
