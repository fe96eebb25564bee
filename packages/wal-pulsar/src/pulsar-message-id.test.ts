import { counterMessageIdCodec, MessageError } from '@streamsvc/message';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import { positionBefore, pulsarIdFrom, pulsarMessageIds } from './pulsar-message-id.js';

// MessageIdData{ledgerId: 5, entryId: 3, partition: -1, batch_index: -1} as the C++ client serializes it.
const CPP_BYTES = Uint8Array.from([
  0x08, 0x05, 0x10, 0x03, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x20, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
]);

describe('pulsar message ids', () => {
  it('serialize (ledger, entry) exactly as the Pulsar C++ client does', () => {
    expect(Buffer.from(pulsarMessageIds.of(5n, 3n).serialize())).toEqual(Buffer.from(CPP_BYTES));
    const id = pulsarMessageIds.fromSerialized(CPP_BYTES);
    expect([id.ledgerId, id.entryId, id.batchIndex, id.partition]).toEqual([5n, 3n, -1, -1]);
  });

  it('have a versioned string form that parses back equal', () => {
    const id = pulsarMessageIds.of(123456789012n, 42n);
    const text = id.toString();
    expect(text).toMatch(/^v1:[A-Za-z0-9_-]+$/);
    const parsed = pulsarMessageIds.parse(text);
    expect(parsed.equals(id)).toBe(true);
    expect(parsed.toString()).toBe(text);
    expect(parsed.walName).toBe('pulsar');
  });

  it('order by ledger, then entry, then batch index', () => {
    const ids = [
      pulsarMessageIds.of(1n, 0n),
      pulsarMessageIds.of(1n, 1n),
      pulsarMessageIds.of(1n, 1n, 0),
      pulsarMessageIds.of(1n, 1n, 1),
      pulsarMessageIds.of(2n, 0n),
      pulsarMessageIds.of(10n, 0n),
    ];
    for (let i = 0; i < ids.length; i++) {
      for (let j = 0; j < ids.length; j++) {
        expect(ids[i]!.compare(ids[j]!)).toBe(Math.sign(i - j));
      }
    }
  });

  it('round-trip over many positions, including ids decoded from bytes with fields Pulsar adds (ack_set, batch_size)', () => {
    for (let i = 0; i < 500; i++) {
      const ledger = BigInt(Math.floor(Math.random() * 2 ** 40));
      const entry = BigInt(Math.floor(Math.random() * 2 ** 30));
      const id = pulsarMessageIds.of(ledger, entry);
      expect(pulsarMessageIds.parse(id.toString()).compare(id)).toBe(0);
    }
    // batch_size = 6 (varint 4) and ack_set = 5 (length-delimited, packed) after the position.
    const withExtras = Uint8Array.from([...CPP_BYTES, 0x30, 0x04, 0x2a, 0x01, 0x07]);
    expect(pulsarMessageIds.fromSerialized(withExtras).equals(pulsarMessageIds.of(5n, 3n))).toBe(true);
  });

  it.each([
    ['an empty string', ''],
    ['no version', 'CAUQAw'],
    ['another version', 'v2:CAUQAw'],
    ['not base64url', 'v1:CA+UQAw'],
    ['padding', 'v1:CAUQAw=='],
    ['truncated bytes', 'v1:CAUQ'],
    ['no entry id', 'v1:CAU'],
  ])('refuse %s with INVALID_MESSAGE_ID', (_what, text) => {
    expect(() => pulsarMessageIds.parse(text)).toThrow(MessageError);
    try {
      pulsarMessageIds.parse(text);
    } catch (e) {
      expect((e as MessageError).code).toBe('INVALID_MESSAGE_ID');
    }
  });

  it('refuse out-of-range positions', () => {
    expect(() => pulsarMessageIds.of(-1n, 0n)).toThrow(MessageError);
    expect(() => pulsarMessageIds.of(0n, -2n)).toThrow(MessageError);
    expect(() => pulsarMessageIds.of(1n << 63n, 0n)).toThrow(MessageError);
  });

  it('refuse to compare with an id of another backend', () => {
    const other = counterMessageIdCodec('memory').of(1n);
    expect(() => pulsarMessageIds.of(1n, 1n).compare(other)).toThrow(expect.objectContaining({ code: 'WAL_MISMATCH' }));
  });

  it('the position before an id is the previous entry, or (ledger, -1) for the first entry of a ledger', () => {
    expect(positionBefore(pulsarMessageIds.of(7n, 3n)).equals(pulsarMessageIds.of(7n, 2n))).toBe(true);
    const beforeFirst = positionBefore(pulsarMessageIds.of(7n, 0n));
    expect([beforeFirst.ledgerId, beforeFirst.entryId]).toEqual([7n, -1n]);
    expect(pulsarMessageIds.fromSerialized(beforeFirst.serialize()).entryId).toBe(-1n);
    expect(positionBefore(pulsarMessageIds.of(7n, 3n, 2)).equals(pulsarMessageIds.of(7n, 3n, 1))).toBe(true);
  });

  it('pulsarIdFrom turns a foreign id into WalError INVALID_MESSAGE_ID', () => {
    const foreign = counterMessageIdCodec('memory').of(1n);
    expect(() => pulsarIdFrom(foreign, 'read')).toThrow(WalError);
    try {
      pulsarIdFrom(foreign, 'read');
    } catch (e) {
      expect(WalError.is(e, WalErrorCode.INVALID_MESSAGE_ID)).toBe(true);
    }
  });
});
