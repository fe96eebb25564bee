import { EventEmitter } from 'node:events';

import { noopLogger } from '@streamsvc/common';
import { counterMessageIdCodec, encodeMessage, MessageBuilder, MessageIdCodecs } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import { ProduceRequest, StreamingNodeHandlerServiceService } from '@streamsvc/proto';
import type { EncodedProduceRequest, StreamingNodeHandlerServiceClient } from '@streamsvc/proto';

import { OutgoingMessage } from './outgoing-message.js';
import { ProducerStream } from './producer-stream.js';
import type { ProducerStreamOptions } from './producer-stream.js';

const VCHANNEL = 'by-dev-dml_0_449v0';

/**
 * Stands in for grpc-js's produce call. Like grpc-js, it serializes each request as it is written, with
 * the handler service's real serializer: `sent` holds the bytes that would go on the wire.
 */
class FakeProduceCall extends EventEmitter {
  readonly sent: Buffer[] = [];
  readonly written: (ProduceRequest | EncodedProduceRequest)[] = [];
  writableEnded = false;
  destroyed = false;

  write(request: ProduceRequest | EncodedProduceRequest): boolean {
    this.written.push(request);
    this.sent.push(StreamingNodeHandlerServiceService.produce.requestSerialize(request));
    return true;
  }

  end(): void {
    this.writableEnded = true;
  }

  cancel(): void {
    this.destroyed = true;
  }
}

async function openStream(
  limits: { maxBatchBytes?: number; maxBatchMessages?: number } = {},
): Promise<{ stream: ProducerStream; call: FakeProduceCall }> {
  const call = new FakeProduceCall();
  const options: ProducerStreamOptions = {
    client: { produce: () => call } as unknown as StreamingNodeHandlerServiceClient,
    assignment: { pchannel: 'by-dev-dml_0', term: 1n, node: { serverId: 1n, address: 'n:1' } },
    idCodecs: MessageIdCodecs.of([counterMessageIdCodec('memory')]),
    logger: noopLogger,
    maxBatchBytes: limits.maxBatchBytes ?? 1024 * 1024,
    maxBatchMessages: limits.maxBatchMessages ?? 256,
    createTimeoutMs: 1000,
  };
  const opening = ProducerStream.open(options);
  call.emit('data', { response: { $case: 'create', create: { walName: 'memory', term: 1n } } });
  const stream = await opening;
  call.sent.length = 0; // the create request
  call.written.length = 0;
  return { stream, call };
}

/** What the generated encoder makes of a produce request of these messages, each encoded on its own. */
function generated(requestId: bigint, messages: readonly MutableMessage[]): Buffer {
  const encoded = messages.map((m) => Buffer.from(encodeMessage(m)));
  return Buffer.from(
    ProduceRequest.encode({ request: { $case: 'produce', produce: { requestId, messages: encoded } } }).finish(),
  );
}

const data = (payload: Uint8Array, properties: Record<string, string> = {}): MutableMessage =>
  MessageBuilder.data(payload).vchannel(VCHANNEL).properties(properties).build();
const filled = (length: number, seed: number): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
/** Lets the stream flush what was appended in this tick. */
const flushed = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Appends without awaiting; the outcomes are not part of these tests. */
function appendAll(stream: ProducerStream, messages: readonly OutgoingMessage[], signal?: AbortSignal): void {
  for (const m of messages) stream.append(m, signal).catch(() => {});
}

describe('ProducerStream requests', () => {
  it('are on the wire the bytes of the generated ProduceRequest of the encoded messages', async () => {
    const { stream, call } = await openStream();
    const messages = [
      data(new Uint8Array(0)),
      data(filled(1024, 1), { k: 'v', ключ: 'значение ✓' }),
      data(filled(64 * 1024, 2)),
      data(filled(130, 3)),
    ];
    appendAll(
      stream,
      messages.map((m) => new OutgoingMessage(m)),
    );
    expect(call.sent).toHaveLength(0); // coalesced until the end of the tick
    await flushed();
    expect(call.sent).toHaveLength(1);
    expect(call.sent[0]!.equals(generated(1n, messages))).toBe(true);
  });

  it('split a tick of appends by the message and byte limits as the encoded sizes say, in order', async () => {
    const messages = [1000, 1000, 1000, 1000, 3000, 10, 10, 10].map((n, i) => data(filled(n, i)));
    const size = (m: MutableMessage): number => encodeMessage(m).byteLength;
    // Room for two of the 1000-byte messages, not three; the 3000-byte one goes alone (over the limit).
    const maxBatchBytes = 2 * size(messages[0]!) + 10;
    const { stream, call } = await openStream({ maxBatchBytes, maxBatchMessages: 2 });
    appendAll(
      stream,
      messages.map((m) => new OutgoingMessage(m)),
    );
    await flushed();
    const groups = [[0, 1], [2, 3], [4], [5, 6], [7]];
    expect(call.sent).toHaveLength(groups.length);
    groups.forEach((group, k) => {
      expect(
        call.sent[k]!.equals(
          generated(
            BigInt(k + 1),
            group.map((i) => messages[i]!),
          ),
        ),
      ).toBe(true);
    });
  });

  it('carry the payload as it was when append returned, also after the next tick reuses the scratch', async () => {
    const { stream, call } = await openStream();
    const payload = filled(5000, 9);
    const original = data(payload.slice());
    appendAll(stream, [new OutgoingMessage(data(payload))]);
    payload.fill(0); // the caller reuses its buffer at once
    await flushed();
    const second = data(filled(5000, 4));
    appendAll(stream, [new OutgoingMessage(second)]);
    await flushed();
    expect(call.sent[0]!.equals(generated(1n, [original]))).toBe(true);
    expect(call.sent[1]!.equals(generated(2n, [second]))).toBe(true);
  });

  it('leave out the messages aborted before the flush', async () => {
    const { stream, call } = await openStream();
    const kept = [data(filled(10, 1)), data(filled(20, 2))];
    const aborted = new AbortController();
    appendAll(stream, [new OutgoingMessage(kept[0]!)]);
    appendAll(stream, [new OutgoingMessage(data(filled(30, 3)))], aborted.signal);
    appendAll(stream, [new OutgoingMessage(kept[1]!)]);
    aborted.abort();
    await flushed();
    expect(call.sent).toHaveLength(1);
    expect(call.sent[0]!.equals(generated(1n, kept))).toBe(true);
  });
});

describe('a message retried on another stream', () => {
  it('is sent with its bytes from the request that carried it, a view, not a copy', async () => {
    const a = await openStream();
    const message = data(filled(64 * 1024, 5));
    const out = new OutgoingMessage(message);
    const failed = a.stream.append(out);
    await flushed();
    a.call.emit('error', new Error('connection reset'));
    await expect(failed).rejects.toThrow('connection reset');
    expect(out.bytes!.buffer).toBe((a.call.written[0] as EncodedProduceRequest).bytes.buffer);

    const b = await openStream();
    appendAll(b.stream, [out]);
    await flushed();
    expect(b.call.sent[0]!.equals(generated(1n, [message]))).toBe(true);
  });

  it('keeps the bytes it had when append returned after its stream failed before sending it', async () => {
    const a = await openStream();
    const payload = filled(3000, 6);
    const original = data(payload.slice());
    const out = new OutgoingMessage(data(payload));
    const failed = a.stream.append(out);
    payload.fill(0);
    a.call.emit('error', new Error('connection reset'));
    await expect(failed).rejects.toThrow('connection reset');
    expect(a.call.sent).toHaveLength(0);

    const b = await openStream();
    appendAll(b.stream, [out]);
    await flushed();
    expect(b.call.sent[0]!.equals(generated(1n, [original]))).toBe(true);
  });

  it('takes its bytes also when the stream refuses it', async () => {
    const a = await openStream();
    a.stream.close();
    const payload = filled(100, 7);
    const original = data(payload.slice());
    const out = new OutgoingMessage(data(payload));
    const refused = a.stream.append(out);
    payload.fill(0);
    await expect(refused).rejects.toThrow('retired');
    expect(Buffer.from(out.bytes!).equals(Buffer.from(encodeMessage(original)))).toBe(true);
  });
});
