import { BinaryWriter } from '@bufbuild/protobuf/wire';

import { ConsumeResponse, ProduceRequest, ProduceResponse } from './gen/streamsvc/streaming/v1/node.js';
import type { ConsumedMessage } from './gen/streamsvc/streaming/v1/node.js';
import {
  decodeConsumeResponse,
  decodeProduceRequest,
  StreamingNodeHandlerServiceService,
} from './node-handler-service.js';
import { rng } from './test-support/seeded-random.js';

const { produce, consume } = StreamingNodeHandlerServiceService;

function randomRequest(next: () => number): ProduceRequest {
  const kind = Math.floor(next() * 4);
  if (kind === 0) return { request: { $case: 'create', create: { pchannel: `p${Math.floor(next() * 9)}`, term: 3n } } };
  if (kind === 1) return { request: { $case: 'close', close: {} } };
  if (kind === 2) return { request: undefined };
  const messages = Array.from({ length: Math.floor(next() * 6) }, () =>
    Buffer.from(Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256))),
  );
  return {
    request: { $case: 'produce', produce: { requestId: BigInt(Math.floor(next() * 2 ** 53)) << 8n, messages } },
  };
}

const bytesOf = (next: () => number, max: number): Buffer =>
  Buffer.from(Array.from({ length: Math.floor(next() * max) }, () => Math.floor(next() * 256)));

function randomConsumeResponse(next: () => number): ConsumeResponse {
  const kind = Math.floor(next() * 4);
  if (kind === 0) return { response: { $case: 'create', create: { consumerId: 'c1', walName: 'w', term: 2n } } };
  if (kind === 1) return { response: { $case: 'close', close: { error: { code: 3, message: 'x', retriable: true } } } };
  if (kind === 2) return { response: undefined };
  const messages = Array.from({ length: Math.floor(next() * 5) }, (): ConsumedMessage => {
    if (next() < 0.6) return { message: { $case: 'single', single: bytesOf(next, 200) } };
    const body = Array.from({ length: Math.floor(next() * 3) }, () => bytesOf(next, 50));
    return { message: { $case: 'txn', txn: { begin: bytesOf(next, 30), body, commit: bytesOf(next, 30) } } };
  });
  return { response: { $case: 'messages', messages: { messages } } };
}

describe('the Consume stream codec', () => {
  it('decodes every response exactly as the generated decoder does', () => {
    const next = rng(0xc0ffee);
    for (let i = 0; i < 500; i++) {
      const bytes = ConsumeResponse.encode(randomConsumeResponse(next)).finish();
      expect(decodeConsumeResponse(bytes)).toEqual(ConsumeResponse.decode(bytes));
    }
  });

  it('decodes delivered messages and transaction parts as views of the response', () => {
    const response: ConsumeResponse = {
      response: {
        $case: 'messages',
        messages: {
          messages: [
            { message: { $case: 'single', single: Buffer.from([1]) } },
            {
              message: {
                $case: 'txn',
                txn: { begin: Buffer.from([2]), body: [Buffer.from([3])], commit: Buffer.from([4]) },
              },
            },
          ],
        },
      },
    };
    const bytes = ConsumeResponse.encode(response).finish();
    const decoded = consume.responseDeserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    expect(decoded).toEqual(response);
    const [single, txn] = decoded.response?.$case === 'messages' ? decoded.response.messages.messages : [];
    const parts =
      single?.message?.$case === 'single' && txn?.message?.$case === 'txn'
        ? [single.message.single, txn.message.txn.begin, ...txn.message.txn.body, txn.message.txn.commit]
        : [];
    expect(parts.map((p) => p.buffer === bytes.buffer)).toEqual([true, true, true, true]);
  });
});

describe('the Produce stream codec', () => {
  it('decodes every request exactly as the generated decoder does', () => {
    const next = rng(0x5eed);
    for (let i = 0; i < 500; i++) {
      const bytes = ProduceRequest.encode(randomRequest(next)).finish();
      expect(decodeProduceRequest(bytes)).toEqual(ProduceRequest.decode(bytes));
    }
  });

  it('decodes messages as views of the request, without copying them', () => {
    const request: ProduceRequest = {
      request: { $case: 'produce', produce: { requestId: 1n, messages: [Buffer.from([1, 2]), Buffer.from([3])] } },
    };
    const bytes = Buffer.from(ProduceRequest.encode(request).finish());
    const decoded = decodeProduceRequest(bytes);
    expect(decoded).toEqual(request);
    const messages = decoded.request?.$case === 'produce' ? decoded.request.produce.messages : [];
    expect(messages.every((m) => Buffer.isBuffer(m) && m.buffer === bytes.buffer)).toBe(true);
  });

  it('skips unknown fields and lets the last oneof field win, like the generated decoder', () => {
    const writer = new BinaryWriter();
    writer.uint32((7 << 3) | 0).uint64(99n); // unknown varint field
    writer
      .uint32((1 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 2)
      .string('p')
      .join(); // create { pchannel: 'p' } …
    writer
      .uint32((2 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 0)
      .uint64(5n)
      .uint32((9 << 3) | 2)
      .bytes(new Uint8Array([1]))
      .uint32((2 << 3) | 2)
      .bytes(new Uint8Array([4, 2]))
      .join(); // … then produce
    const bytes = writer.finish();
    expect(decodeProduceRequest(bytes)).toEqual(ProduceRequest.decode(bytes));
    expect(decodeProduceRequest(bytes).request).toEqual({
      $case: 'produce',
      produce: { requestId: 5n, messages: [Buffer.from([4, 2])] },
    });
  });

  it('rejects truncated bytes', () => {
    const bytes = ProduceRequest.encode({
      request: { $case: 'produce', produce: { requestId: 1n, messages: [Buffer.alloc(100)] } },
    }).finish();
    expect(() => decodeProduceRequest(bytes.subarray(0, 50))).toThrow();
  });

  it('serializes requests and responses to the bytes the generated encoders produce', () => {
    const next = rng(42);
    for (let i = 0; i < 50; i++) {
      const request = randomRequest(next);
      expect(produce.requestSerialize(request)).toEqual(Buffer.from(ProduceRequest.encode(request).finish()));
    }
    const response: ProduceResponse = {
      response: {
        $case: 'produce',
        produce: {
          requestId: 9n,
          outcomes: [
            { outcome: { $case: 'ok', ok: { messageId: 'v1:3', timeTick: 1n << 60n, lastConfirmed: 'v1:1' } } },
          ],
        },
      },
    };
    expect(produce.responseSerialize(response)).toEqual(Buffer.from(ProduceResponse.encode(response).finish()));
    const consumed: ConsumeResponse = {
      response: {
        $case: 'messages',
        messages: { messages: [{ message: { $case: 'single', single: Buffer.alloc(5000, 7) } }] },
      },
    };
    expect(consume.responseSerialize(consumed)).toEqual(Buffer.from(ConsumeResponse.encode(consumed).finish()));
  });

  it('keeps serializing correctly after a message larger than the writer it keeps, and after a failed encode', () => {
    const big: ProduceRequest = {
      request: { $case: 'produce', produce: { requestId: 2n, messages: [Buffer.alloc(5 * 1024 * 1024, 1)] } },
    };
    expect(produce.requestDeserialize(produce.requestSerialize(big))).toEqual(big);
    expect(() =>
      produce.requestSerialize({ request: { $case: 'produce', produce: { requestId: -1n, messages: [] } } }),
    ).toThrow();
    const small: ProduceRequest = { request: { $case: 'create', create: { pchannel: 'p', term: 1n } } };
    expect(produce.requestDeserialize(produce.requestSerialize(small))).toEqual(small);
  });
});

describe('response serializers', () => {
  it('hand out views that the next encode overwrites (a grpc-js server copies them at once)', () => {
    const first = produce.responseSerialize({
      response: { $case: 'create', create: { producerId: 'a', walName: 'w', term: 1n } },
    });
    const copy = Buffer.from(first);
    produce.responseSerialize({ response: { $case: 'create', create: { producerId: 'b', walName: 'w', term: 2n } } });
    expect(first.equals(copy)).toBe(false);
  });
});
