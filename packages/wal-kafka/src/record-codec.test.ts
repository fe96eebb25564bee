import { MessageBuilder, PropertyKey } from '@streamsvc/message';
import type { MessageEnvelope } from '@streamsvc/message';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import fc from 'fast-check';

import { decodeRecord, encodeRecord, RECORD_FORMAT } from './record-codec.js';

/** Format 1 written the obvious way, one Buffer per string: the layout records on brokers already have. */
function referenceEncoding(message: MessageEnvelope): Buffer {
  const entries = [...message.properties].map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  const table = Buffer.alloc(3 + 6 * entries.length);
  table.writeUInt8(RECORD_FORMAT, 0);
  table.writeUInt16LE(entries.length, 1);
  entries.forEach(([k, v], i) => {
    table.writeUInt16LE(k.byteLength, 3 + 6 * i);
    table.writeUInt32LE(v.byteLength, 5 + 6 * i);
  });
  return Buffer.concat([table, ...entries.flat(), message.payload]);
}

const stamped = { [PropertyKey.TimeTick]: '1', [PropertyKey.LastConfirmedSelf]: '' };

describe('the record codec', () => {
  it('writes the same bytes as format 1 written one Buffer per property, for any strings, lone surrogates included', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary', maxLength: 40 })),
        fc.uint8Array({ maxLength: 64 }),
        (extra, payload) => {
          const message = { payload, properties: new Map(Object.entries({ ...extra, ...stamped })) };
          expect(Buffer.from(encodeRecord(message, 'p', 1 << 20))).toEqual(referenceEncoding(message));
        },
      ),
    );
  });

  it('reads back a stamped message with its properties and payload', () => {
    const message = MessageBuilder.data(new Uint8Array([1, 2, 3]))
      .vchannel('p-dml_0_1v0')
      .properties({ clé: 'välue ✓', empty: '' })
      .build()
      .withTimeTick(42n)
      .withLastConfirmedSelf();
    const decoded = decodeRecord(encodeRecord(message, 'p', 1 << 20), 't', 7n);
    expect(decoded.timeTick).toBe(42n);
    expect([...decoded.payload]).toEqual([1, 2, 3]);
    expect(decoded.properties.get('clé')).toBe('välue ✓');
    expect(decoded.properties.get('empty')).toBe('');
    expect(decoded.id.toString()).toBe('v1:7');
  });

  it('rejects a message larger than maxBytes once encoded, counting property bytes', () => {
    const message = {
      payload: new Uint8Array(1000),
      properties: new Map(Object.entries({ ...stamped, k: 'é'.repeat(20) })),
    };
    const size = referenceEncoding(message).byteLength;
    expect(encodeRecord(message, 'p', size).byteLength).toBe(size);
    let error: unknown;
    try {
      encodeRecord(message, 'p', size - 1);
    } catch (e) {
      error = e;
    }
    expect(WalError.is(error, WalErrorCode.INVALID_ARGUMENT)).toBe(true);
  });
});
