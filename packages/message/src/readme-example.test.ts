// The README's example, kept here so that the documentation cannot drift from the API.
import {
  DataType,
  MessageBuilder,
  MessageType,
  counterMessageIdCodec,
  decodeImmutableMessage,
  encodeImmutableMessage,
} from './index.js';

describe('the README example', () => {
  it('builds, stamps, stores, encodes and decodes an Insert', () => {
    const msg = MessageBuilder.insert()
      .header({ collectionId: 449n, partitions: [{ partitionId: 1n, rows: 1, binarySize: 8 }] })
      .body({
        numRows: 1,
        fields: [{ fieldId: 100n, dataType: DataType.Int64, column: { $case: 'longs', longs: { values: [7n] } } }],
      })
      .vchannel('by-dev-dml_0_449v0')
      .properties({ source: 'loader' })
      .build();

    const ids = counterMessageIdCodec('memory');
    const stored = msg
      .withTimeTick(450_000_000_000n)
      .withWalTerm(1n)
      .withLastConfirmed(ids.of(41n))
      .intoImmutable(ids.of(42n));

    const received = decodeImmutableMessage(encodeImmutableMessage(stored), ids);
    expect(received.is(MessageType.Insert) && [received.header.collectionId, received.body.numRows]).toEqual([449n, 1]);
    expect(received.userProperties.get('source')).toBe('loader');
    expect(received.lastConfirmed.toString()).toBe('v1:41');
  });
});
