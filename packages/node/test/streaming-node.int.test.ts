import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { MessageType, STREAMING_ERROR_NUMBERS, StreamingError, decodeImmutableMessage } from '@streamsvc/message';
import { StreamingNodeHandlerServiceClient } from '@streamsvc/proto';
import type { ConsumeResponse, ProduceResponse, StreamingErrorInfo } from '@streamsvc/proto';
import { memoryWal } from '@streamsvc/wal-memory';

import { PCHANNEL, Responses, VCHANNEL, bytesOf, createCollection, data, startNode } from './support/node-fixture.js';
import type { ConsumeStream, ProduceStream } from './support/node-fixture.js';

const code = (info: StreamingErrorInfo | undefined): string | undefined =>
  info === undefined ? undefined : StreamingError.codeOfNumber(info.code);

function produceOutcomes(all: readonly ProduceResponse[]): { requestId: bigint; outcomes: unknown[] }[] {
  return all.flatMap((r) => (r.response?.$case === 'produce' ? [r.response.produce] : []));
}

function closeError(all: readonly (ProduceResponse | ConsumeResponse)[]): string | undefined {
  for (const r of all) if (r.response?.$case === 'close') return code(r.response.close.error);
  return undefined;
}

function openProducer(
  handler: StreamingNodeHandlerServiceClient,
  term = 0n,
): { stream: ProduceStream; responses: Responses<ProduceResponse> } {
  const stream = handler.produce();
  const responses = new Responses<ProduceResponse>(stream);
  stream.write({ request: { $case: 'create', create: { pchannel: PCHANNEL, term } } });
  return { stream, responses };
}

function consumedTexts(all: readonly ConsumeResponse[]): string[] {
  return all.flatMap((r) =>
    r.response?.$case === 'messages'
      ? r.response.messages.messages.flatMap((m) => {
          if (m.message?.$case !== 'single') return [];
          const msg = decodeImmutableMessage(m.message.single, memoryWal.messageIds);
          return msg.type === MessageType.Data ? [new TextDecoder().decode(msg.payload)] : [];
        })
      : [],
  );
}

function consumedTimeTicks(all: readonly ConsumeResponse[]): bigint[] {
  return all.flatMap((r) =>
    r.response?.$case === 'messages'
      ? r.response.messages.messages.flatMap((m) =>
          m.message?.$case === 'single'
            ? [decodeImmutableMessage(m.message.single, memoryWal.messageIds).timeTick]
            : [],
        )
      : [],
  );
}

describe('StreamingNode over gRPC', () => {
  it('appends a batch of messages per request and delivers them to a consumer in time-tick order', async () => {
    await using fx = await startNode();
    const { stream, responses } = openProducer(fx.handler);
    stream.write({
      request: { $case: 'produce', produce: { requestId: 1n, messages: [bytesOf(createCollection())] } },
    });
    await responses.waitFor((all) => produceOutcomes(all).length === 1);
    const texts = Array.from({ length: 20 }, (_, i) => `m${i}`);
    stream.write({
      request: { $case: 'produce', produce: { requestId: 2n, messages: texts.map((t) => bytesOf(data(t))) } },
    });
    await responses.waitFor((all) => produceOutcomes(all).length === 2);
    const batch = produceOutcomes(responses.all).find((p) => p.requestId === 2n)!;
    expect(batch.outcomes).toHaveLength(20);
    expect(batch.outcomes.every((o) => (o as { outcome: { $case: string } }).outcome.$case === 'ok')).toBe(true);

    const consumer: ConsumeStream = fx.handler.consume();
    const consumed = new Responses<ConsumeResponse>(consumer);
    consumer.write({
      request: {
        $case: 'create',
        create: {
          pchannel: PCHANNEL,
          term: 0n,
          vchannel: VCHANNEL,
          deliverPolicy: { policy: { $case: 'all', all: {} } },
          deliverFilters: [],
          includeTimeTicks: false,
        },
      },
    });
    await consumed.waitFor((all) => consumedTexts(all).length === 20);
    expect(consumedTexts(consumed.all).slice().sort()).toEqual(texts.slice().sort());
    const tts = consumedTimeTicks(consumed.all);
    expect(tts.every((tt, i) => i === 0 || tt > tts[i - 1]!)).toBe(true);
    consumer.write({ request: { $case: 'close', close: {} } });
    stream.end();
  });

  it('answers a bad message in a batch with INVALID_ARGUMENT and appends the good ones', async () => {
    await using fx = await startNode({ maxMessageBytes: 4096 });
    const { stream, responses } = openProducer(fx.handler);
    stream.write({
      request: { $case: 'produce', produce: { requestId: 1n, messages: [bytesOf(createCollection())] } },
    });
    stream.write({
      request: {
        $case: 'produce',
        produce: {
          requestId: 2n,
          messages: [Buffer.from([0xff, 0x01, 0x02]), bytesOf(data('x'.repeat(5000))), bytesOf(data('fine'))],
        },
      },
    });
    await responses.waitFor((all) => produceOutcomes(all).some((p) => p.requestId === 2n));
    const outcomes = produceOutcomes(responses.all).find((p) => p.requestId === 2n)!.outcomes as {
      outcome: { $case: string; error?: StreamingErrorInfo };
    }[];
    expect(outcomes.map((o) => (o.outcome.$case === 'ok' ? 'ok' : code(o.outcome.error)))).toEqual([
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'ok',
    ]);
    stream.end();
  });

  it('refuses produce before create, an unknown pchannel and a wrong term with typed close errors', async () => {
    await using fx = await startNode();
    const early = fx.handler.produce();
    const earlyResponses = new Responses<ProduceResponse>(early);
    early.write({ request: { $case: 'produce', produce: { requestId: 1n, messages: [] } } });
    await earlyResponses.waitFor((all) => closeError(all) !== undefined);
    expect(closeError(earlyResponses.all)).toBe('INVALID_REQUEST_SEQ');

    const unknown = fx.handler.produce();
    const unknownResponses = new Responses<ProduceResponse>(unknown);
    unknown.write({ request: { $case: 'create', create: { pchannel: 'node-dml_9', term: 0n } } });
    await unknownResponses.waitFor((all) => closeError(all) !== undefined);
    expect(closeError(unknownResponses.all)).toBe('CHANNEL_NOT_EXIST');

    const { responses: wrongTerm } = openProducer(fx.handler, 5n);
    await wrongTerm.waitFor((all) => closeError(all) !== undefined);
    expect(closeError(wrongTerm.all)).toBe('UNMATCHED_CHANNEL_TERM');
  });

  it('tells open producers CHANNEL_FENCED when the pchannel moves to a newer term, and ignores stale assigns', async () => {
    await using fx = await startNode();
    const { stream, responses } = openProducer(fx.handler);
    stream.write({
      request: { $case: 'produce', produce: { requestId: 1n, messages: [bytesOf(createCollection())] } },
    });
    await responses.waitFor((all) => produceOutcomes(all).length === 1);
    await fx.manager.assign(PCHANNEL, 2n);
    stream.write({
      request: { $case: 'produce', produce: { requestId: 2n, messages: [bytesOf(data('old producer'))] } },
    });
    await responses.waitFor((all) => closeError(all) !== undefined);
    expect(closeError(responses.all)).toBe('CHANNEL_FENCED');
    await expect(fx.manager.assign(PCHANNEL, 1n)).rejects.toMatchObject({ code: 'IGNORED_OPERATION' });
    expect(fx.manager.get(PCHANNEL).term).toBe(2n);
  });

  it('keeps serving others while a consumer never reads, and drops a malformed request stream without harm', async () => {
    await using fx = await startNode();
    const { stream, responses } = openProducer(fx.handler);
    stream.write({
      request: { $case: 'produce', produce: { requestId: 1n, messages: [bytesOf(createCollection())] } },
    });
    await responses.waitFor((all) => produceOutcomes(all).length === 1);
    // A consumer that never reads: the server must stop at the flow-control window, not buffer everything.
    const lazy = fx.handler.consume();
    lazy.on('error', () => undefined); // cancelled at the end
    lazy.pause();
    lazy.write({
      request: {
        $case: 'create',
        create: {
          pchannel: PCHANNEL,
          term: 0n,
          vchannel: VCHANNEL,
          deliverPolicy: { policy: { $case: 'all', all: {} } },
          deliverFilters: [],
          includeTimeTicks: true,
        },
      },
    });
    const payload = 'y'.repeat(16 * 1024);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 20; i++) {
      stream.write({
        request: {
          $case: 'produce',
          produce: { requestId: BigInt(10 + i), messages: Array.from({ length: 32 }, () => bytesOf(data(payload))) },
        },
      });
    }
    await responses.waitFor((all) => produceOutcomes(all).length === 21, 20_000);
    // Raw bytes that are not a ProduceRequest: grpc-js fails that call; the server goes on.
    const Raw = makeGenericClientConstructor(
      {
        produce: {
          path: '/streamsvc.streaming.v1.StreamingNodeHandlerService/Produce',
          requestStream: true,
          responseStream: true,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      'Raw',
    );
    const raw = new Raw(fx.grpc.address, credentials.createInsecure()) as unknown as {
      produce(): ProduceStream & { write(b: Buffer): boolean };
    };
    const rawStream = raw.produce();
    const rawDone = new Promise((resolve) => rawStream.on('error', resolve).on('end', resolve));
    (rawStream as unknown as { write(b: Buffer): boolean }).write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]));
    await rawDone;
    // Others are unaffected: a fresh consumer reads everything.
    const reader = fx.handler.consume();
    reader.on('error', () => undefined);
    const read = new Responses<ConsumeResponse>(reader);
    reader.write({
      request: {
        $case: 'create',
        create: {
          pchannel: PCHANNEL,
          term: 0n,
          vchannel: VCHANNEL,
          deliverPolicy: { policy: { $case: 'all', all: {} } },
          deliverFilters: [],
          includeTimeTicks: false,
        },
      },
    });
    await read.waitFor((all) => consumedTexts(all).length === 640, 20_000);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
    lazy.cancel();
    reader.cancel();
    stream.end();
  }, 60_000);

  it('survives a thousand connections opened and dropped', async () => {
    await using fx = await startNode();
    for (let i = 0; i < 1000; i++) {
      const client = new StreamingNodeHandlerServiceClient(fx.grpc.address, credentials.createInsecure());
      const s = client.produce();
      s.on('error', () => undefined);
      s.write({ request: { $case: 'create', create: { pchannel: PCHANNEL, term: 0n } } });
      s.cancel();
      client.close();
    }
    const { stream, responses } = openProducer(fx.handler);
    stream.write({
      request: { $case: 'produce', produce: { requestId: 1n, messages: [bytesOf(createCollection())] } },
    });
    await responses.waitFor((all) => produceOutcomes(all).length === 1, 20_000);
    expect(fx.node.streams.producers).toBeLessThan(50);
    stream.end();
  }, 60_000);

  it('closes open streams with ON_SHUTDOWN and refuses new ones while shutting down', async () => {
    await using fx = await startNode();
    const { responses } = openProducer(fx.handler);
    await responses.waitFor((all) => all.some((r) => r.response?.$case === 'create'));
    await fx.node.shutdown();
    await responses.waitFor((all) => closeError(all) !== undefined);
    expect(closeError(responses.all)).toBe('ON_SHUTDOWN');
    const { responses: late } = openProducer(fx.handler);
    await late.waitFor((all) => closeError(all) !== undefined);
    expect(closeError(late.all)).toBe('ON_SHUTDOWN');
    expect(STREAMING_ERROR_NUMBERS.ON_SHUTDOWN).toBe(3);
  });
});
