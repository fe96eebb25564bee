import { EncodedProduceRequest } from './encoded-produce-request.js';
import { ProduceRequest } from './gen/streamsvc/streaming/v1/node.js';
import { decodeProduceRequest, StreamingNodeHandlerServiceService } from './node-handler-service.js';
import { rng } from './test-support/seeded-random.js';

const { produce } = StreamingNodeHandlerServiceService;

function generated(requestId: bigint, messages: readonly Uint8Array[]): Buffer {
  const produce = { requestId, messages: messages.map((m) => Buffer.from(m)) };
  return Buffer.from(ProduceRequest.encode({ request: { $case: 'produce', produce } }).finish());
}

/** Message lengths that take one, two and three varint bytes, at and around each boundary. */
const LENGTHS = [0, 1, 127, 128, 129, 300, 16_383, 16_384, 65_536 + 40];
/** Request ids at the varint boundaries, the 32-bit fast path's edge and the uint64 maximum. */
const REQUEST_IDS = [0n, 1n, 127n, 128n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 35n + 3n, 2n ** 63n, 2n ** 64n - 1n];

describe('EncodedProduceRequest', () => {
  it('encodes to the bytes of the generated ProduceRequest at every varint boundary', () => {
    for (const requestId of REQUEST_IDS) {
      const messages = LENGTHS.map((n, i) => new Uint8Array(n).fill(i + 1));
      expect(EncodedProduceRequest.of(requestId, messages).bytes.equals(generated(requestId, messages))).toBe(true);
    }
  });

  it('encodes random batches to the bytes of the generated ProduceRequest', () => {
    const next = rng(0x64c0de);
    for (let i = 0; i < 300; i++) {
      const requestId = BigInt(Math.floor(next() * 2 ** 53)) << BigInt(Math.floor(next() * 11));
      const messages = Array.from({ length: Math.floor(next() * 8) }, () =>
        Uint8Array.from({ length: Math.floor(next() * 400) }, () => Math.floor(next() * 256)),
      );
      expect(EncodedProduceRequest.of(requestId, messages).bytes.equals(generated(requestId, messages))).toBe(true);
    }
  });

  it('hands out views of its bytes that equal the messages it was given', () => {
    const messages = [Uint8Array.of(1, 2, 3), new Uint8Array(0), new Uint8Array(300).fill(9)];
    const request = EncodedProduceRequest.of(5n, messages);
    expect(request.messages.map((m) => [...m])).toEqual(messages.map((m) => [...m]));
    for (const view of request.messages) expect(view.buffer).toBe(request.bytes.buffer);
    const decoded = decodeProduceRequest(request.bytes).request;
    expect(decoded?.$case === 'produce' && decoded.produce.messages.map((m) => [...m])).toEqual(
      messages.map((m) => [...m]),
    );
  });

  it('keeps its bytes when the messages it copied change afterwards', () => {
    const message = Uint8Array.of(7, 7, 7);
    const request = EncodedProduceRequest.of(1n, [message]);
    message.fill(0);
    expect([...request.messages[0]!]).toEqual([7, 7, 7]);
  });

  it('is sent by the produce request serializer as its bytes, uncopied', () => {
    const request = EncodedProduceRequest.of(9n, [Uint8Array.of(4)]);
    expect(produce.requestSerialize(request)).toBe(request.bytes);
  });

  it('refuses a request id that is not a uint64, as the generated encoder does', () => {
    expect(() => EncodedProduceRequest.of(2n ** 64n, [])).toThrow('too large');
    expect(() => EncodedProduceRequest.of(-1n, [])).toThrow('too large');
    expect(() => generated(2n ** 64n, [])).toThrow('too large');
  });
});
