import fc from 'fast-check';

import { MessageBuilder, vchannelName } from '@streamsvc/message';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { decodeEntry, encodeEntry } from './entry-codec.js';
import { woodpeckerMessageIds } from './message-ids.js';

const vchannel = vchannelName('codec-dml_0', 1n, 0);
const userKey = fc.stringMatching(/^[a-z][a-z0-9]{0,12}$/);

describe('entry codec', () => {
  it('round-trips payloads and user properties of any size and text, with the id it is read at', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.dictionary(userKey, fc.string({ unit: 'grapheme', maxLength: 40 }), { maxKeys: 8 }),
        fc.bigInt({ min: 1n, max: (1n << 62n) - 1n }),
        fc.nat({ max: 2 ** 40 }),
        fc.nat({ max: 2 ** 40 }),
        (payload, props, timeTick, segmentId, entryId) => {
          const message = MessageBuilder.data(payload)
            .vchannel(vchannel)
            .properties(props)
            .build()
            .withTimeTick(timeTick)
            .withLastConfirmedSelf();
          const read = decodeEntry(encodeEntry(message, 'codec-dml_0'), 'codec-dml_0', segmentId, entryId);
          expect(Buffer.from(read.payload)).toEqual(Buffer.from(payload));
          expect(Object.fromEntries(read.userProperties)).toEqual(props);
          expect(read.timeTick).toBe(timeTick);
          expect(read.id.equals(woodpeckerMessageIds.of(BigInt(segmentId), BigInt(entryId)))).toBe(true);
          expect(read.lastConfirmed.equals(read.id)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('copies the payload out, so a read message never pins the block it came from', () => {
    const message = MessageBuilder.data(Buffer.from('abc'))
      .vchannel(vchannel)
      .build()
      .withTimeTick(1n)
      .withLastConfirmedSelf();
    const bytes = Buffer.from(encodeEntry(message, 'p'));
    const read = decodeEntry(bytes, 'p', 0, 0);
    expect(read.payload.buffer).not.toBe(bytes.buffer);
  });

  it('refuses a message without a time tick or a last-confirmed id with INVALID_ARGUMENT', () => {
    const plain = MessageBuilder.data(Buffer.from('x')).vchannel(vchannel).build();
    expect(() => encodeEntry(plain, 'p')).toThrow(expect.objectContaining({ code: WalErrorCode.INVALID_ARGUMENT }));
    expect(() => encodeEntry(plain.withTimeTick(1n), 'p')).toThrow(/last-confirmed/);
  });

  it('reports bytes that pass their CRC but do not decode as CORRUPT naming the entry', () => {
    for (const bad of [Buffer.from([9, 0, 0]), Buffer.from([1, 5, 0, 1]), Buffer.from([1, 0, 0, 1, 2, 3])]) {
      try {
        decodeEntry(bad, 'p', 3, 7);
        throw new Error('decoded');
      } catch (e) {
        expect(WalError.is(e, WalErrorCode.CORRUPT)).toBe(true);
        expect((e as Error).message).toContain('segment 3 entry 7');
      }
    }
  });
});
