import fc from 'fast-check';

import { decodeMessageEnvelope } from './envelope-decoder.js';
import { encodeMessage } from './encoding.js';
import { Message as MessagePb } from './gen/streamsvc/message/v1/envelope.js';
import { MessageBuilder } from './message-builder.js';
import { PropertyKey } from './property-keys.js';

/** What the generated decoder makes of `bytes`, or the fact that it throws. */
function generated(bytes: Uint8Array): unknown {
  try {
    const m = MessagePb.decode(bytes);
    return { payload: Buffer.from(m.payload), properties: [...m.properties] };
  } catch {
    return 'throws';
  }
}

function ours(bytes: Uint8Array): unknown {
  try {
    const m = decodeMessageEnvelope(bytes);
    return { payload: Buffer.from(m.payload), properties: [...m.properties] };
  } catch {
    return 'throws';
  }
}

const data = MessageBuilder.data(new Uint8Array(300).fill(7))
  .vchannel('by-dev-dml_0_449v0')
  .properties({ k: 'v', ünï: 'cödé', long: 'x'.repeat(40) })
  .build();

describe('decodeMessageEnvelope', () => {
  it('decodes what the generated decoder decodes, and throws where it throws, on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(ours(bytes)).toEqual(generated(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the generated decoder on a valid encoding with bytes flipped, cut or appended', () => {
    const good = encodeMessage(data);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
        fc.nat(good.length),
        fc.uint8Array({ maxLength: 8 }),
        (flips, cut, tail) => {
          const bytes = Uint8Array.from(good);
          for (const [at, xor] of flips) bytes[at] = (bytes[at] ?? 0) ^ xor;
          const mangled = Buffer.concat([bytes.subarray(0, cut), tail]);
          expect(ours(mangled)).toEqual(generated(mangled));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('decodes system keys and values it reuses the strings of (vchannel, type, version) correctly', () => {
    const a = decodeMessageEnvelope(encodeMessage(data)).properties;
    const b = decodeMessageEnvelope(encodeMessage(data)).properties;
    expect([...a.keys()].filter((k) => k.startsWith('_'))).toEqual([
      PropertyKey.Version,
      PropertyKey.MessageType,
      PropertyKey.Header,
      PropertyKey.VChannel,
    ]);
    expect(a.get(PropertyKey.VChannel)).toBe('by-dev-dml_0_449v0');
    expect(b.get(PropertyKey.VChannel)).toBe(a.get(PropertyKey.VChannel));
    expect(a.get(PropertyKey.MessageType)).toBe('100');
    const other = decodeMessageEnvelope(
      encodeMessage(MessageBuilder.data(new Uint8Array(1)).vchannel('by-dev-dml_1_449v0').build()),
    ).properties;
    expect(other.get(PropertyKey.VChannel)).toBe('by-dev-dml_1_449v0'); // a new vchannel is a new string
    expect(decodeMessageEnvelope(encodeMessage(data)).properties.get(PropertyKey.VChannel)).toBe('by-dev-dml_0_449v0');
    expect(a.get('ünï')).toBe('cödé');
  });

  it('copies the payload out of the input', () => {
    const bytes = encodeMessage(data);
    const { payload } = decodeMessageEnvelope(bytes);
    bytes.fill(0);
    expect(payload.every((b) => b === 7)).toBe(true);
  });
});
