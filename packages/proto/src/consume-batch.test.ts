import type { BinaryWriter } from '@bufbuild/protobuf/wire';

import { ConsumeBatch } from './consume-batch.js';
import type { ConsumeBatchItem } from './consume-batch.js';
import { ConsumeResponse } from './gen/streamsvc/streaming/v1/node.js';
import type { ConsumedMessage } from './gen/streamsvc/streaming/v1/node.js';
import { decodeConsumeResponse, StreamingNodeHandlerServiceService } from './node-handler-service.js';

const { consume } = StreamingNodeHandlerServiceService;

/** Stands in for a stored message's encoder: the "message" is its own encoding. */
const writeRaw = (bytes: Buffer, writer: BinaryWriter): void => void writer.raw(bytes);
const msg = (n: number, length: number): Buffer => Buffer.alloc(length, n);

function generated(items: readonly ConsumeBatchItem<Buffer>[]): Buffer {
  const messages = items.map((item): ConsumedMessage =>
    item.txn === undefined
      ? { message: { $case: 'single', single: item.single } }
      : { message: { $case: 'txn', txn: { ...item.txn, body: [...item.txn.body] } } },
  );
  return Buffer.from(ConsumeResponse.encode({ response: { $case: 'messages', messages: { messages } } }).finish());
}

describe('ConsumeBatch', () => {
  it('serializes to the bytes of the generated ConsumeResponse holding the encoded messages', () => {
    const items: ConsumeBatchItem<Buffer>[] = [
      { single: msg(1, 3) },
      { txn: { begin: msg(2, 5), body: [msg(3, 200), msg(4, 1)], commit: msg(5, 7) } },
      { single: msg(6, 20_000) }, // a length that takes a three-byte varint
      { txn: { begin: msg(7, 1), body: [], commit: msg(8, 1) } },
    ];
    const ours = Buffer.from(consume.responseSerialize(ConsumeBatch.of(items, writeRaw)));
    expect(ours.equals(generated(items))).toBe(true);
    const back = decodeConsumeResponse(ours).response;
    expect(back?.$case === 'messages' && back.messages.messages.length).toBe(4);
  });

  it('serializes an empty batch as an empty message list', () => {
    const ours = Buffer.from(consume.responseSerialize(ConsumeBatch.of<Buffer>([], writeRaw)));
    expect(ours.equals(generated([]))).toBe(true);
  });
});
