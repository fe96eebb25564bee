import { BinaryWriter } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import {
  expectMessageError,
  insertMessage,
  memoryIds,
  OTHER_VCHANNEL,
  VCHANNEL,
  woodpeckerIds,
} from '../test/support/fixtures.js';
import {
  decodeBroadcastMessage,
  decodeImmutableMessage,
  decodeMessage,
  encodeImmutableMessage,
  encodeImmutableMessageInto,
  encodeMessage,
  MessageEncodeScratch,
} from './encoding.js';
import { ImmutableMessage as ImmutableMessagePb, Message as MessagePb } from './gen/streamsvc/message/v1/envelope.js';
import { MessageBuilder } from './message-builder.js';
import { MessageError } from './message-error.js';
import { MessageIdCodecs } from './message-id-codecs.js';
import { MessageType } from './message-type.js';

const codecs = MessageIdCodecs.of([memoryIds, woodpeckerIds]);

/** Encodes an envelope with hand-made properties, as a buggy or hostile producer could send. */
function envelope(properties: Record<string, string>, payload = new Uint8Array()): Uint8Array {
  return MessagePb.encode({ payload: Buffer.from(payload), properties: new Map(Object.entries(properties)) }).finish();
}

const valid = Object.fromEntries(
  MessageBuilder.data(new Uint8Array([1]))
    .vchannel(VCHANNEL)
    .build().properties,
);

describe('encodeMessage / decodeMessage', () => {
  it('round-trips a mutable message with its stamps', () => {
    const msg = insertMessage().withTimeTick(5n).withWalTerm(1n).withTxnContext({ txnId: 3n });
    const back = decodeMessage(encodeMessage(msg));
    expect(back.type).toBe(MessageType.Insert);
    expect(back.properties).toEqual(msg.properties);
    expect(Buffer.from(back.payload)).toEqual(Buffer.from(msg.payload));
    expect(back.header).toEqual(msg.header);
    expect(back.body).toEqual(msg.body);
    expect(back.timeTick).toBe(5n);
  });

  it('copies the payload out of the input so a decoded message never pins a larger buffer', () => {
    const bytes = encodeMessage(
      MessageBuilder.data(new Uint8Array([1, 2, 3]))
        .vchannel(VCHANNEL)
        .build(),
    );
    const back = decodeMessage(bytes);
    // Distinct memory (both may live in one slab of Node's Buffer pool, which is fine).
    const overlaps =
      back.payload.buffer === bytes.buffer &&
      back.payload.byteOffset < bytes.byteOffset + bytes.byteLength &&
      bytes.byteOffset < back.payload.byteOffset + back.payload.byteLength;
    expect(overlaps).toBe(false);
    bytes.fill(0);
    expect([...back.payload]).toEqual([1, 2, 3]);
  });

  it('round-trips a broadcast through decodeBroadcastMessage, and decodeMessage refuses it', () => {
    const b = MessageBuilder.dropCollection()
      .header({ collectionId: 1n })
      .broadcast([VCHANNEL, OTHER_VCHANNEL])
      .build()
      .withBroadcastId(4n);
    const bytes = encodeMessage(b);
    expect(decodeBroadcastMessage(bytes).broadcastHeader).toEqual(b.broadcastHeader);
    expectMessageError(() => decodeMessage(bytes), 'INVALID_MESSAGE');
    expectMessageError(() => decodeBroadcastMessage(encodeMessage(insertMessage())), 'INVALID_MESSAGE');
  });

  it.each([
    ['truncated protobuf', Uint8Array.from([0x0a, 0x05, 0x01])],
    ['a wrong wire type', Uint8Array.from([0x0f])],
    ['an empty message (no properties at all)', new Uint8Array()],
  ])('rejects %s with INVALID_MESSAGE', (_what, bytes) => {
    expectMessageError(() => decodeMessage(bytes), 'INVALID_MESSAGE');
  });

  it.each<[string, Record<string, string>, string, string]>([
    ['no version', { ...valid, _v: undefined as never }, 'INVALID_MESSAGE', 'no version'],
    ['a future version', { ...valid, _v: '2' }, 'INVALID_MESSAGE', 'version (_v) "2"'],
    ['no type', { ...valid, _t: undefined as never }, 'INVALID_MESSAGE', 'no type'],
    ['an unknown type', { ...valid, _t: '77' }, 'UNKNOWN_MESSAGE_TYPE', '77'],
    ['the reader-only Txn type', { ...valid, _t: '999' }, 'INVALID_MESSAGE', 'Txn'],
    ['no header', { ...valid, _h: undefined as never }, 'INVALID_MESSAGE', 'no header'],
    ['a header that is not base64', { ...valid, _h: '!!' }, 'INVALID_MESSAGE', 'header (_h)'],
    [
      'a header with corrupt protobuf',
      { ...valid, _t: '2', _h: Buffer.from([0x0a, 0xff]).toString('base64') },
      'INVALID_MESSAGE',
      'corrupt',
    ],
    ['a bad vchannel', { ...valid, _vc: 'nope' }, 'INVALID_CHANNEL_NAME', '"nope"'],
    ['no vchannel on a Data message', { ...valid, _vc: undefined as never }, 'INVALID_MESSAGE', 'no vchannel'],
    ['a bad time tick', { ...valid, _tt: 'XYZ' }, 'INVALID_MESSAGE', 'time tick (_tt)'],
    ['a bad wal term', { ...valid, _wt: '-1' }, 'INVALID_MESSAGE', 'wal term (_wt)'],
    ['a bad barrier tt', { ...valid, _btt: '' }, 'INVALID_MESSAGE', 'barrier time tick (_btt)'],
    ['a corrupt txn context', { ...valid, _tx: '@' }, 'INVALID_MESSAGE', 'txn context (_tx)'],
    ['a corrupt broadcast header', { ...valid, _bh: 'AA' }, 'INVALID_MESSAGE', 'broadcast header (_bh)'],
    ['both _lc and _lcs', { ...valid, _lc: 'v1:1', _lcs: '' }, 'INVALID_MESSAGE', '_lc and _lcs'],
    ['a flag with a value', { ...valid, _np: 'yes' }, 'INVALID_MESSAGE', '_np'],
  ])('rejects an envelope with %s', (_what, props, code, named) => {
    const clean = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
    expect(expectMessageError(() => decodeMessage(envelope(clean)), code as never)).toContain(named);
  });

  it('keeps unknown system properties from newer writers instead of failing', () => {
    const back = decodeMessage(envelope({ ...valid, _future: 'x' }));
    expect(back.properties.get('_future')).toBe('x');
    expect(back.userProperties.has('_future')).toBe(false);
  });

  it('never throws anything but a MessageError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const decode of [
          decodeMessage,
          decodeBroadcastMessage,
          (b: Uint8Array) => decodeImmutableMessage(b, codecs),
        ]) {
          try {
            decode(bytes);
          } catch (e) {
            expect(MessageError.is(e)).toBe(true);
          }
        }
      }),
    );
  });

  it('never throws anything but a MessageError on a valid encoding with bytes flipped', () => {
    const good = encodeImmutableMessage(
      insertMessage().withTimeTick(9n).withLastConfirmedSelf().intoImmutable(memoryIds.of(1n)),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (flips) => {
          const bytes = Uint8Array.from(good);
          for (const [at, xor] of flips) bytes[at] = (bytes[at] ?? 0) ^ xor;
          try {
            const m = decodeImmutableMessage(bytes, codecs);
            void m.body;
          } catch (e) {
            expect(MessageError.is(e)).toBe(true);
          }
        },
      ),
    );
  });
});

describe('encodeImmutableMessage / decodeImmutableMessage', () => {
  it('writes the same bytes into a writer with encodeImmutableMessageInto', () => {
    const stored = insertMessage().withTimeTick(9n).withLastConfirmedSelf().intoImmutable(memoryIds.of(1n));
    const writer = new BinaryWriter();
    writer.uint32(7); // something before it, as in an enclosing message
    encodeImmutableMessageInto(stored, writer);
    const bytes = writer.finish();
    expect(bytes[0]).toBe(7);
    expect(Buffer.from(bytes.subarray(1)).equals(Buffer.from(encodeImmutableMessage(stored)))).toBe(true);
  });

  it('round-trips a stored message with its id and wal name', () => {
    const msg = insertMessage()
      .withTimeTick(9n)
      .withLastConfirmed(woodpeckerIds.of(1n, 2n))
      .intoImmutable(woodpeckerIds.of(1n, 3n));
    const back = decodeImmutableMessage(encodeImmutableMessage(msg), codecs);
    expect(back.id.equals(msg.id)).toBe(true);
    expect(back.walName).toBe('woodpecker');
    expect(back.lastConfirmed.toString()).toBe('v1:1:2');
    expect(back.timeTick).toBe(9n);
    expect(back.properties).toEqual(msg.properties);
    expect(back.body).toEqual(msg.body);
  });

  it('accepts a single codec of the right wal, and refuses one of another wal (WAL_MISMATCH)', () => {
    const bytes = encodeImmutableMessage(
      insertMessage().withTimeTick(1n).withLastConfirmedSelf().intoImmutable(memoryIds.of(1n)),
    );
    expect(decodeImmutableMessage(bytes, memoryIds).id.toString()).toBe('v1:1');
    expectMessageError(() => decodeImmutableMessage(bytes, woodpeckerIds), 'WAL_MISMATCH');
  });

  it('reports a wal without codec (UNKNOWN_WAL_NAME) and a bad id string (INVALID_MESSAGE_ID)', () => {
    const stored = insertMessage().withTimeTick(1n).withLastConfirmedSelf().intoImmutable(memoryIds.of(1n));
    const bytes = encodeImmutableMessage(stored);
    expectMessageError(() => decodeImmutableMessage(bytes, MessageIdCodecs.of([woodpeckerIds])), 'UNKNOWN_WAL_NAME');
    const badId = ImmutableMessagePb.encode({
      messageId: 'oops',
      walName: 'memory',
      payload: Buffer.from(stored.payload),
      properties: new Map(stored.properties),
    }).finish();
    expectMessageError(() => decodeImmutableMessage(badId, codecs), 'INVALID_MESSAGE_ID');
  });
});

describe('MessageEncodeScratch', () => {
  const data = (payload: Uint8Array, properties: Record<string, string> = {}) =>
    MessageBuilder.data(payload)
      .vchannel(VCHANNEL)
      .properties(properties)
      .build({ maxBytes: 8 * 1024 * 1024 });
  const text = fc.string({ unit: 'grapheme', maxLength: 20 });

  it('encodes every message to the bytes of encodeMessage, one after the other', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.uint8Array({ maxLength: 3000 }),
            fc.dictionary(
              text.filter((k) => k !== '' && !k.startsWith('_')),
              text,
            ),
          ),
          {
            maxLength: 6,
          },
        ),
        (inputs) => {
          const scratch = new MessageEncodeScratch();
          const messages = inputs.map(([payload, props]) => data(payload, props));
          const views = messages.map((m) => scratch.encode(m));
          // All views are read after the last encode: growing the buffer must not change earlier ones.
          views.forEach((view, i) =>
            expect(Buffer.from(view).equals(Buffer.from(encodeMessage(messages[i]!)))).toBe(true),
          );
        },
      ),
    );
  });

  it('encodes messages of every kind, with stamps, to the bytes of encodeMessage', () => {
    const scratch = new MessageEncodeScratch();
    const msg = insertMessage().withTimeTick(5n).withWalTerm(1n).withTxnContext({ txnId: 3n });
    expect(Buffer.from(scratch.encode(msg)).equals(Buffer.from(encodeMessage(msg)))).toBe(true);
  });

  it('reuses its buffer from the start after reset', () => {
    const scratch = new MessageEncodeScratch();
    const first = scratch.encode(data(new Uint8Array(100).fill(1)));
    scratch.reset();
    const second = scratch.encode(data(new Uint8Array(100).fill(2)));
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset);
    expect(Buffer.from(second).equals(Buffer.from(encodeMessage(data(new Uint8Array(100).fill(2)))))).toBe(true);
  });

  it('drops a buffer that grew past 4 MiB on reset, so one burst does not stay allocated', () => {
    const scratch = new MessageEncodeScratch();
    const big = scratch.encode(data(new Uint8Array(5 * 1024 * 1024)));
    scratch.reset();
    const next = scratch.encode(data(Uint8Array.of(1)));
    expect(next.buffer).not.toBe(big.buffer);
    expect(next.buffer.byteLength).toBeLessThan(1024 * 1024);
  });

  it('keeps the messages before a failed encode and drops what the failed one wrote', () => {
    const scratch = new MessageEncodeScratch();
    const ok = data(Uint8Array.of(1, 2));
    const before = scratch.encode(ok);
    // Properties that fail while being iterated make the encode throw after it wrote the payload.
    const properties = {
      forEach(write: (value: string, key: string) => void): void {
        write('v', 'k');
        throw new Error('boom');
      },
    } as unknown as ReadonlyMap<string, string>;
    expect(() => scratch.encode({ payload: new Uint8Array(300), properties })).toThrow('boom');
    const after = scratch.encode(ok);
    expect(after.byteOffset).toBe(before.byteOffset + before.byteLength);
    expect(Buffer.from(before).equals(Buffer.from(encodeMessage(ok)))).toBe(true);
    expect(Buffer.from(after).equals(Buffer.from(encodeMessage(ok)))).toBe(true);
  });
});
