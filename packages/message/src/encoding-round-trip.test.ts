import fc from 'fast-check';
import { headerAndBody, u64, userProperties } from '../test/support/arbitraries.js';
import { memoryIds, VCHANNEL, woodpeckerIds } from '../test/support/fixtures.js';
import { decodeImmutableMessage, decodeMessage, encodeImmutableMessage, encodeMessage } from './encoding.js';
import { MessageBuilder } from './message-builder.js';
import { MessageIdCodecs } from './message-id-codecs.js';
import { isWritableMessageType, specOf } from './message-specs.js';
import type { WritableMessageType } from './message-specs.js';
import { ALL_MESSAGE_TYPES, messageTypeName, MessageType } from './message-type.js';
import type { MutableMessage } from './mutable-message.js';

// Every writable type, with arbitrary headers, bodies, user properties and stamps, survives
// encode → decode unchanged, as a mutable message and as an immutable one with either id kind.

const TYPES = ALL_MESSAGE_TYPES.filter(isWritableMessageType);
const codecs = MessageIdCodecs.of([memoryIds, woodpeckerIds]);
const TXN_TYPES: ReadonlySet<number> = new Set([
  MessageType.Insert,
  MessageType.Delete,
  MessageType.Data,
  MessageType.BeginTxn,
  MessageType.CommitTxn,
  MessageType.RollbackTxn,
]);

const stamps = fc.record({
  tt: u64,
  term: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
  barrier: fc.option(u64, { nil: undefined }),
  txnId: fc.option(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), { nil: undefined }),
  keepaliveMs: fc.nat(),
});

/** What the builder made of the inputs: decoding the built message once gives the normalised values. */
function expected(type: WritableMessageType, header: unknown, body: unknown): { header: unknown; body: unknown } {
  const spec = specOf(type);
  return { header: spec.header.normalize(header as never), body: spec.body.normalize(body as never) };
}

function build(type: WritableMessageType, header: object, body: object, props: Record<string, string>): MutableMessage {
  const builder = MessageBuilder.of(type)
    .header(header as never)
    .body(body as never)
    .properties(props);
  return (type === MessageType.TimeTick ? builder : builder.vchannel(VCHANNEL)).build({ maxBytes: 1 << 30 });
}

describe.each(TYPES.map((t) => [messageTypeName(t), t] as const))('%s messages', (_name, type) => {
  it('survive encodeMessage → decodeMessage unchanged', () => {
    fc.assert(
      fc.property(headerAndBody(type), userProperties, stamps, ({ header, body }, props, s) => {
        const msg = build(type, header, body, props).withTimeTick(s.tt).withWalTerm(s.term);
        if (s.barrier !== undefined) msg.withBarrierTimeTick(s.barrier);
        if (s.txnId !== undefined && TXN_TYPES.has(type))
          msg.withTxnContext({ txnId: s.txnId, keepaliveMs: s.keepaliveMs });
        const back = decodeMessage(encodeMessage(msg));
        const want = expected(type, header, body);
        expect(back.type).toBe(type);
        expect(back.properties).toEqual(msg.properties);
        expect(Object.fromEntries(back.userProperties)).toEqual(props);
        expect(back.header).toEqual(want.header);
        expect(type === MessageType.Data ? Buffer.from(back.body as Uint8Array) : back.body).toEqual(
          type === MessageType.Data ? Buffer.from(want.body as Uint8Array) : want.body,
        );
        expect(back.timeTick).toBe(s.tt);
        expect(back.walTerm).toBe(s.term);
        expect(back.barrierTimeTick).toBe(s.barrier);
        expect(back.estimateSize()).toBe(msg.estimateSize());
      }),
      { numRuns: 60 },
    );
  });

  it('survive encodeImmutableMessage → decodeImmutableMessage with either id kind', () => {
    const ids = fc.oneof(
      fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }).map((o) => [memoryIds.of(o), memoryIds.of(o / 2n)] as const),
      fc
        .tuple(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }))
        .map(([seg, entry]) => [woodpeckerIds.of(seg, entry), woodpeckerIds.of(seg, 0n)] as const),
    );
    fc.assert(
      fc.property(
        headerAndBody(type),
        userProperties,
        u64,
        ids,
        fc.boolean(),
        ({ header, body }, props, tt, [id, lc], self) => {
          const msg = build(type, header, body, props).withTimeTick(tt);
          if (self) msg.withLastConfirmedSelf();
          else msg.withLastConfirmed(lc);
          const stored = msg.intoImmutable(id);
          const back = decodeImmutableMessage(encodeImmutableMessage(stored), codecs);
          expect(back.id.equals(id)).toBe(true);
          expect(back.walName).toBe(id.walName);
          expect(back.timeTick).toBe(tt);
          expect(back.lastConfirmed.equals(self ? id : lc)).toBe(true);
          expect(back.properties).toEqual(stored.properties);
          expect(back.header).toEqual(stored.header);
          expect(Buffer.from(back.payload)).toEqual(Buffer.from(stored.payload));
        },
      ),
      { numRuns: 40 },
    );
  });
});
