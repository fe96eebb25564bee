import { builderFor, expectMessageError, insertMessage, OTHER_VCHANNEL, VCHANNEL } from '../test/support/fixtures.js';
import { BroadcastMutableMessage } from './broadcast-message.js';
import { ResourceDomain } from './data-type.js';
import { DEFAULT_MAX_MESSAGE_BYTES, MessageBuilder } from './message-builder.js';
import { isWritableMessageType } from './message-specs.js';
import { ALL_MESSAGE_TYPES, MessageType } from './message-type.js';
import { MutableMessage } from './mutable-message.js';

describe('MessageBuilder', () => {
  it('builds an Insert with typed header and body and the system properties', () => {
    const msg = insertMessage();
    expect(msg).toBeInstanceOf(MutableMessage);
    expect(msg.type).toBe(MessageType.Insert);
    expect(msg.typeName).toBe('Insert');
    expect(msg.vchannel).toBe(VCHANNEL);
    expect(msg.header).toEqual({
      collectionId: 449n,
      partitions: [{ partitionId: 1n, rows: 2, binarySize: 40, segmentId: 0n }],
    });
    expect(msg.body.numRows).toBe(2);
    expect(msg.body.fields.map((f) => f.fieldId)).toEqual([100n, 101n, 102n]);
    expect([...msg.properties.keys()]).toEqual(['_v', '_t', '_h', '_vc', 'user']);
    expect(msg.properties.get('_v')).toBe('1');
    expect(msg.properties.get('_t')).toBe('2');
    expect([...msg.userProperties]).toEqual([['user', 'x']]);
    expect(msg.timeTick).toBeUndefined();
  });

  it('builds every writable type, and nothing can build Txn', () => {
    for (const type of ALL_MESSAGE_TYPES) {
      if (!isWritableMessageType(type)) {
        expect(type).toBe(MessageType.Txn);
        expectMessageError(() => MessageBuilder.of(type), 'INVALID_MESSAGE');
        continue;
      }
      const msg = builderFor(type).build();
      expect(msg.type).toBe(type);
      expect(msg.header).toBeDefined();
      expect(msg.body).toBeDefined();
    }
  });

  it('resolves a builder by type number or name', () => {
    expect(MessageBuilder.of(MessageType.DropCollection).type).toBe(6);
    expect(MessageBuilder.of('DropCollection').type).toBe(6);
    expectMessageError(() => MessageBuilder.of(77), 'UNKNOWN_MESSAGE_TYPE');
    expectMessageError(() => MessageBuilder.of('Nope'), 'UNKNOWN_MESSAGE_TYPE');
  });

  it('stores a Data body as the payload, byte for byte', () => {
    const bytes = new Uint8Array([0, 255, 7]);
    const msg = MessageBuilder.data(bytes).vchannel(VCHANNEL).build();
    expect(msg.payload).toBe(bytes);
    expect(msg.body).toBe(bytes);
    expect(msg.header).toEqual({});
  });

  it('fills omitted header fields with protobuf zero values and accepts 64-bit fields as strings', () => {
    const msg = MessageBuilder.manualFlush().header({ collectionId: '449' }).vchannel(VCHANNEL).build();
    expect(msg.header).toEqual({ collectionId: 449n, flushTs: 0n, segmentIds: [] });
  });

  it('lets TimeTick go without a vchannel (it addresses the whole pchannel)', () => {
    const tick = MessageBuilder.timeTick().build();
    expect(tick.vchannel).toBeUndefined();
    expect(tick.properties.has('_vc')).toBe(false);
  });

  it('requires a vchannel on everything but TimeTick (INVALID_MESSAGE)', () => {
    const text = expectMessageError(() => MessageBuilder.data(new Uint8Array(1)).build(), 'INVALID_MESSAGE');
    expect(text).toContain('Data message has no vchannel');
  });

  it('rejects a malformed vchannel with INVALID_CHANNEL_NAME naming it', () => {
    expect(
      expectMessageError(() => MessageBuilder.data(new Uint8Array(1)).vchannel('v1'), 'INVALID_CHANNEL_NAME'),
    ).toContain('"v1"');
  });

  it('requires a header and a body where the type has content (INVALID_MESSAGE)', () => {
    expect(expectMessageError(() => MessageBuilder.insert().vchannel(VCHANNEL).build(), 'INVALID_MESSAGE')).toContain(
      'Insert message has no header',
    );
    expect(
      expectMessageError(
        () => MessageBuilder.insert().header({ collectionId: 1n }).vchannel(VCHANNEL).build(),
        'INVALID_MESSAGE',
      ),
    ).toContain('Insert message has no body');
    expectMessageError(() => MessageBuilder.dropCollection().vchannel(VCHANNEL).build(), 'INVALID_MESSAGE');
    expectMessageError(() => MessageBuilder.of(MessageType.Data).vchannel(VCHANNEL).build(), 'INVALID_MESSAGE');
  });

  it('rejects header values the wire type cannot hold (INVALID_MESSAGE)', () => {
    const fractional = MessageBuilder.delete()
      .header({ collectionId: 1n, rows: 1.5 })
      .body({ primaryKeys: { keys: { $case: 'intKeys', intKeys: { values: [1n] } } } })
      .vchannel(VCHANNEL);
    expectMessageError(() => fractional.build(), 'INVALID_MESSAGE');
    const notANumber = MessageBuilder.dropCollection().header({ collectionId: 'abc' }).vchannel(VCHANNEL);
    expect(expectMessageError(() => notANumber.build(), 'INVALID_MESSAGE')).toContain(
      'DropCollection header or body is invalid',
    );
    const notBytes = MessageBuilder.of(MessageType.Data)
      .body('text' as unknown as Uint8Array)
      .vchannel(VCHANNEL);
    expectMessageError(() => notBytes.build(), 'INVALID_MESSAGE');
  });

  it('rejects user properties with reserved keys (RESERVED_PROPERTY)', () => {
    expectMessageError(() => MessageBuilder.data(new Uint8Array(1)).properties({ _tt: '5' }), 'RESERVED_PROPERTY');
  });

  it('merges properties from several calls, later values winning', () => {
    const msg = MessageBuilder.data(new Uint8Array(1))
      .vchannel(VCHANNEL)
      .properties({ a: '1', b: '1' })
      .properties({ b: '2' })
      .build();
    expect(Object.fromEntries(msg.userProperties)).toEqual({ a: '1', b: '2' });
  });

  it('rejects a message over maxBytes with MESSAGE_TOO_LARGE naming the size and the limit', () => {
    const build = (n: number, maxBytes?: number) =>
      MessageBuilder.data(new Uint8Array(n))
        .vchannel(VCHANNEL)
        .build(maxBytes === undefined ? {} : { maxBytes });
    const overhead = build(0).estimateSize();
    expect(build(100 - overhead, 100).estimateSize()).toBe(100);
    const text = expectMessageError(() => build(101 - overhead, 100), 'MESSAGE_TOO_LARGE');
    expect(text).toContain('101 bytes');
    expect(text).toContain('limit of 100 bytes');
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(2 * 1024 * 1024);
    expect(build(DEFAULT_MAX_MESSAGE_BYTES - overhead).estimateSize()).toBe(DEFAULT_MAX_MESSAGE_BYTES);
    expectMessageError(() => build(DEFAULT_MAX_MESSAGE_BYTES), 'MESSAGE_TOO_LARGE');
  });

  it('rejects a maxBytes that is not a positive integer (INVALID_MESSAGE)', () => {
    for (const maxBytes of [0, -1, 1.5, Number.NaN]) {
      expectMessageError(
        () => MessageBuilder.data(new Uint8Array(1)).vchannel(VCHANNEL).build({ maxBytes }),
        'INVALID_MESSAGE',
      );
    }
  });

  it('builds independent messages when reused', () => {
    const builder = MessageBuilder.data(new Uint8Array(1)).vchannel(VCHANNEL);
    const a = builder.build().withTimeTick(1n);
    const b = builder.build();
    expect(a.timeTick).toBe(1n);
    expect(b.timeTick).toBeUndefined();
  });
});

describe('MessageBuilder.broadcast', () => {
  it('builds a broadcast carrying the vchannel list and resource keys instead of one vchannel', () => {
    const msg = MessageBuilder.dropCollection()
      .header({ collectionId: 449n })
      .properties({ who: 'admin' })
      .broadcast([VCHANNEL, OTHER_VCHANNEL], { resourceKeys: [{ domain: ResourceDomain.CollectionName, key: 'docs' }] })
      .build();
    expect(msg).toBeInstanceOf(BroadcastMutableMessage);
    expect(msg.vchannel).toBeUndefined();
    expect(msg.vchannels).toEqual([VCHANNEL, OTHER_VCHANNEL]);
    expect(msg.broadcastHeader).toEqual({
      broadcastId: 0n,
      vchannels: [VCHANNEL, OTHER_VCHANNEL],
      resourceKeys: [{ domain: ResourceDomain.CollectionName, key: 'docs', shared: false }],
    });
    expect(msg.header).toEqual({ collectionId: 449n });
    expect(msg.userProperties.get('who')).toBe('admin');
  });

  it('refuses to broadcast system and WAL-only types (INVALID_MESSAGE)', () => {
    for (const b of [
      MessageBuilder.timeTick(),
      MessageBuilder.beginTxn(),
      MessageBuilder.flush(),
      MessageBuilder.createSegment(),
    ]) {
      expect(expectMessageError(() => b.broadcast([VCHANNEL]), 'INVALID_MESSAGE')).toContain('cannot be broadcast');
    }
  });

  it('rejects an empty or repeated vchannel list, a bad name, or a vchannel set before', () => {
    const ddl = () => MessageBuilder.dropCollection().header({ collectionId: 1n });
    expectMessageError(() => ddl().broadcast([]), 'INVALID_MESSAGE');
    expect(expectMessageError(() => ddl().broadcast([VCHANNEL, VCHANNEL]), 'INVALID_MESSAGE')).toContain('twice');
    expectMessageError(() => ddl().broadcast([VCHANNEL, 'bad']), 'INVALID_CHANNEL_NAME');
    expectMessageError(() => ddl().vchannel(VCHANNEL).broadcast([OTHER_VCHANNEL]), 'INVALID_MESSAGE');
  });

  it('rejects resource keys with an empty key (INVALID_MESSAGE)', () => {
    const b = MessageBuilder.dropCollection()
      .header({ collectionId: 1n })
      .broadcast([VCHANNEL], { resourceKeys: [{ domain: ResourceDomain.DbName, key: '' }] });
    expectMessageError(() => b.build(), 'INVALID_MESSAGE');
  });

  it('applies the size limit to broadcasts too (MESSAGE_TOO_LARGE)', () => {
    const b = MessageBuilder.data(new Uint8Array(200)).broadcast([VCHANNEL]);
    expectMessageError(() => b.build({ maxBytes: 100 }), 'MESSAGE_TOO_LARGE');
  });
});
