import { expectMessageError, memoryIds, OTHER_VCHANNEL, VCHANNEL } from '../test/support/fixtures.js';
import { BroadcastMutableMessage } from './broadcast-message.js';
import { ResourceDomain } from './data-type.js';
import { MessageBuilder } from './message-builder.js';
import { MessageType } from './message-type.js';
import { MutableMessage } from './mutable-message.js';

const resourceKeys = [{ domain: ResourceDomain.CollectionName, key: 'docs', shared: true }];

function broadcast() {
  return MessageBuilder.dropCollection()
    .header({ collectionId: 449n })
    .body({ collectionName: 'docs' })
    .properties({ who: 'admin' })
    .broadcast([VCHANNEL, OTHER_VCHANNEL], { resourceKeys })
    .build();
}

describe('BroadcastMutableMessage', () => {
  it('gets its broadcast id once, from the broadcaster', () => {
    const msg = broadcast().withBroadcastId(42n);
    expect(msg.broadcastHeader.broadcastId).toBe(42n);
    expect(msg.vchannels).toEqual([VCHANNEL, OTHER_VCHANNEL]);
    expect(expectMessageError(() => msg.withBroadcastId(43n), 'PROPERTY_ALREADY_SET')).toContain('42');
    expectMessageError(() => broadcast().withBroadcastId(0n), 'INVALID_MESSAGE');
    expectMessageError(() => broadcast().withBroadcastId(-1n), 'INVALID_MESSAGE');
  });

  it('splits into one mutable message per vchannel with the same payload and the broadcast id kept', () => {
    const msg = broadcast().withBroadcastId(42n);
    const parts = msg.splitIntoMutableMessages();
    expect(parts.map((p) => p.vchannel)).toEqual([VCHANNEL, OTHER_VCHANNEL]);
    for (const part of parts) {
      expect(part).toBeInstanceOf(MutableMessage);
      expect(part.type).toBe(MessageType.DropCollection);
      expect(part.payload).toBe(msg.payload);
      expect(part.header).toEqual({ collectionId: 449n });
      expect(part.body).toEqual({ collectionName: 'docs', dbName: '' });
      expect(part.userProperties.get('who')).toBe('admin');
      // The vchannel list is dropped: each copy is about its own vchannel only.
      expect(part.broadcastHeader).toEqual({ broadcastId: 42n, vchannels: [], resourceKeys });
    }
  });

  it('splits into messages that are independent of each other and of the broadcast', () => {
    const msg = broadcast();
    const [a, b] = msg.splitIntoMutableMessages();
    a!.withTimeTick(1n);
    expect(b!.timeTick).toBeUndefined();
    msg.withBroadcastId(7n);
    expect(a!.broadcastHeader?.broadcastId).toBe(0n);
  });

  it('splits into messages that can be stamped and stored like any other', () => {
    const [part] = broadcast().withBroadcastId(1n).splitIntoMutableMessages();
    const stored = part!.withTimeTick(9n).withLastConfirmedSelf().intoImmutable(memoryIds.of(0n));
    expect(stored.broadcastHeader?.broadcastId).toBe(1n);
    expect(MutableMessage.fromEnvelope(part!).vchannel).toBe(VCHANNEL);
  });

  it('is rebuilt from its envelope, and an ordinary message is not a broadcast (INVALID_MESSAGE)', () => {
    const msg = broadcast();
    expect(BroadcastMutableMessage.fromEnvelope(msg).vchannels).toEqual(msg.vchannels);
    const single = MessageBuilder.dropCollection().header({ collectionId: 1n }).vchannel(VCHANNEL).build();
    expect(expectMessageError(() => BroadcastMutableMessage.fromEnvelope(single), 'INVALID_MESSAGE')).toContain(
      'not a broadcast',
    );
    expect(expectMessageError(() => MutableMessage.fromEnvelope(msg), 'INVALID_MESSAGE')).toContain('split it');
  });

  it('narrows its type with is()', () => {
    const msg: BroadcastMutableMessage = broadcast();
    expect(msg.is(MessageType.DropCollection) && msg.header.collectionId).toBe(449n);
    expect(msg.is(MessageType.Insert)).toBe(false);
  });
});
