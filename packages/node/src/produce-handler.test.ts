import { EventEmitter } from 'node:events';

import type { ServerDuplexStream } from '@grpc/grpc-js';
import { noopLogger } from '@streamsvc/common';
import {
  counterMessageIdCodec,
  decodeMessage,
  encodeMessage,
  MessageBuilder,
  PayloadArena,
  STREAMING_ERROR_NUMBERS,
  StreamingError,
  vchannelName,
} from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import { decodeProduceRequest, ProduceRequest } from '@streamsvc/proto';
import type { ProduceResponse } from '@streamsvc/proto';
import type { AppendResult, Wal } from '@streamsvc/wal-core';

import { ProduceHandler } from './produce-handler.js';

const ids = counterMessageIdCodec('memory');
const vchannel = vchannelName('by-dev-dml_0', 1n, 0);
const dataBytes = (n: number): Buffer =>
  Buffer.from(
    encodeMessage(
      MessageBuilder.data(new Uint8Array([n]))
        .vchannel(vchannel)
        .build(),
    ),
  );

/** A grpc-js server stream as the handler sees it: requests are emitted, responses collected. */
class FakeCall extends EventEmitter {
  readonly written: ProduceResponse[] = [];
  cancelled = false;
  destroyed = false;
  paused = false;
  ended = false;
  write(response: ProduceResponse): boolean {
    this.written.push(response);
    return true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.ended = true;
  }
  send(request: ProduceRequest['request']): void {
    this.emit('data', { request });
  }
}

/** A WAL whose appends complete when the test says so. */
class FakeWal {
  readonly pchannel = 'by-dev-dml_0';
  readonly term = 1n;
  available = true;
  readonly appends: { message: MutableMessage; resolve(r: AppendResult): void; reject(e: unknown): void }[] = [];
  append(message: MutableMessage): Promise<AppendResult> {
    return new Promise((resolve, reject) => this.appends.push({ message, resolve, reject }));
  }
  /** Completes append `i` at offset `offset` with last-confirmed offset `lc`. */
  complete(i: number, offset: bigint, lc: bigint): void {
    const append = this.appends[i]!;
    const message = append.message
      .withTimeTick(100n + offset)
      .withLastConfirmed(ids.of(lc))
      .intoImmutable(ids.of(offset));
    const { id, timeTick, lastConfirmed } = message;
    append.resolve({ id, timeTick, lastConfirmed, txnContext: undefined, message });
  }
}

function open(maxInFlightRequests = 8): { call: FakeCall; wal: FakeWal } {
  const call = new FakeCall();
  const wal = new FakeWal();
  new ProduceHandler(call as unknown as ServerDuplexStream<ProduceRequest, ProduceResponse>, {
    manager: { get: () => wal as unknown as Wal },
    walName: 'memory',
    logger: noopLogger,
    maxInFlightRequests,
    shuttingDown: () => false,
  });
  call.send({ $case: 'create', create: { pchannel: wal.pchannel, term: 0n } });
  call.written.length = 0;
  return { call, wal };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ProduceHandler', () => {
  it('answers one outcome per message in request order, once the last append completes', async () => {
    const { call, wal } = open();
    call.send({
      $case: 'produce',
      produce: { requestId: 7n, messages: [dataBytes(1), Buffer.from([0xff]), dataBytes(3)] },
    });
    expect(wal.appends.map((a) => a.message.payload[0])).toEqual([1, 3]); // the bad bytes never reach the WAL
    wal.complete(1, 11n, 9n);
    await flush();
    expect(call.written).toEqual([]);
    wal.complete(0, 10n, 9n);
    await flush();
    expect(call.written).toHaveLength(1);
    const response = call.written[0]!.response;
    if (response?.$case !== 'produce') throw new Error(`not a produce response: ${response?.$case}`);
    expect(response.produce.requestId).toBe(7n);
    const [first, bad, third] = response.produce.outcomes.map((o) => o.outcome);
    expect(first).toEqual({
      $case: 'ok',
      ok: { messageId: ids.of(10n).toString(), timeTick: 110n, lastConfirmed: ids.of(9n).toString(), txn: undefined },
    });
    expect(bad?.$case === 'error' && bad.error.code).toBe(STREAMING_ERROR_NUMBERS.INVALID_ARGUMENT);
    expect(third?.$case === 'ok' && third.ok.messageId).toBe(ids.of(11n).toString());
  });

  it('answers a failed append with its error and an empty request with no outcomes', async () => {
    const { call, wal } = open();
    call.send({ $case: 'produce', produce: { requestId: 1n, messages: [dataBytes(1)] } });
    call.send({ $case: 'produce', produce: { requestId: 2n, messages: [] } });
    wal.appends[0]!.reject(new StreamingError('CHANNEL_FENCED', 'fenced'));
    await flush();
    const answers = call.written.map((w) => (w.response?.$case === 'produce' ? w.response.produce : undefined));
    expect(answers.map((a) => a?.requestId)).toEqual([2n, 1n]);
    expect(answers[0]?.outcomes).toEqual([]);
    const failed = answers[1]?.outcomes[0]?.outcome;
    expect(failed?.$case === 'error' && failed.error.code).toBe(STREAMING_ERROR_NUMBERS.CHANNEL_FENCED);
  });

  it('stops reading at the in-flight limit and resumes below half of it', async () => {
    const { call, wal } = open(4);
    for (let r = 0; r < 4; r++)
      call.send({ $case: 'produce', produce: { requestId: BigInt(r), messages: [dataBytes(r)] } });
    expect(call.paused).toBe(true);
    wal.complete(0, 0n, 0n);
    wal.complete(1, 1n, 0n);
    await flush();
    expect(call.paused).toBe(true); // 2 in flight: not below half
    wal.complete(2, 2n, 0n);
    await flush();
    expect(call.paused).toBe(false);
    expect(call.written).toHaveLength(3);
  });
});

describe('the produce path', () => {
  it('stores messages that do not keep the whole produce request alive', () => {
    // decodeProduceRequest hands out views of the request; the produce handler relies on the message
    // decoder copying the payload out, or the write-ahead buffer would pin every request it saw.
    const vchannel = vchannelName('by-dev-dml_0', 1n, 0);
    const messages = [1, 2].map((n) =>
      Buffer.from(encodeMessage(MessageBuilder.data(new Uint8Array(100).fill(n)).vchannel(vchannel).build())),
    );
    const requestBytes = ProduceRequest.encode({
      request: { $case: 'produce', produce: { requestId: 1n, messages } },
    }).finish();
    const request = decodeProduceRequest(requestBytes).request;
    const views = request?.$case === 'produce' ? request.produce.messages : [];
    expect(views.map((v) => v.buffer === requestBytes.buffer)).toEqual([true, true]);
    for (const arena of [undefined, PayloadArena.forInputs(views)]) {
      // As decoded alone, and as the handler decodes them: into one arena per request.
      const decoded = views.map((v) => decodeMessage(v, { arena }));
      expect(decoded.map((m) => m.payload[0])).toEqual([1, 2]);
      expect(decoded.some((m) => m.payload.buffer === requestBytes.buffer)).toBe(false);
    }
  });
});
