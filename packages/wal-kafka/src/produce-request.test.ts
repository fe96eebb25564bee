import fc from 'fast-check';
// The reference is kafkajs's own Produce v3 encoder (a test may use it: only the adapter runs kafkajs).
import kafkajsProduceV3 from 'kafkajs/src/protocol/requests/produce/v3/request.js';

import { encodeProduceRequest } from './produce-request.js';

async function kafkajsEncoding(topic: string, values: Uint8Array[], timestampMs: number): Promise<Buffer> {
  const now = jest.spyOn(Date, 'now').mockReturnValue(timestampMs);
  try {
    const request = kafkajsProduceV3({
      acks: -1,
      timeout: 30_000,
      compression: 0,
      topicData: [{ topic, partitions: [{ partition: 0, messages: values.map((v) => ({ value: Buffer.from(v) })) }] }],
    });
    return (await request.encode()).buffer;
  } finally {
    now.mockRestore();
  }
}

describe('the Produce v3 request body', () => {
  it('is byte for byte what kafkajs writes for the same records, at any sizes and counts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        async (topic, values, timestampMs) => {
          const ours = encodeProduceRequest({ topic, partition: 0, acks: -1, timeoutMs: 30_000, timestampMs, values });
          expect(ours).toEqual(await kafkajsEncoding(topic, values, timestampMs));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is byte for byte what kafkajs writes for values whose lengths need three-byte varints', async () => {
    const values = [new Uint8Array(20_000).fill(7), new Uint8Array(1024), new Uint8Array(0)];
    const ours = encodeProduceRequest({
      topic: 't',
      partition: 0,
      acks: -1,
      timeoutMs: 30_000,
      timestampMs: 1,
      values,
    });
    expect(ours).toEqual(await kafkajsEncoding('t', values, 1));
  });
});
