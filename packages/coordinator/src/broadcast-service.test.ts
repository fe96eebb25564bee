import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { status as GrpcStatus } from '@grpc/grpc-js';
import type { sendUnaryData, ServerErrorResponse, ServerUnaryCall, StatusObject } from '@grpc/grpc-js';
import { deferred, ManualClock } from '@streamsvc/common';
import { encodeMessage, MessageBuilder, STREAMING_ERROR_NUMBERS, StreamingError } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import { EmbeddedMetaKv } from '@streamsvc/metastore';
import { readStreamingErrorMetadata } from '@streamsvc/proto';
import type {
  AppendResult,
  BroadcastRequest,
  BroadcastResponse,
  StreamingCoordBroadcastServiceServer,
  StreamingErrorInfo,
} from '@streamsvc/proto';
import type { TsoSource } from '@streamsvc/tso';

import { broadcastService } from './broadcast-service.js';
import type { BroadcastServiceOptions } from './broadcast-service.js';
import { Broadcaster } from './broadcaster.js';

const VCHANNELS = ['by-dev-dml_0_449v0', 'by-dev-dml_1_449v1'];

const tso = (): TsoSource => {
  let next = 500n;
  return { allocate: () => Promise.resolve(next++) };
};

/** Appends by recording the copy; the first `failures` attempts fail with a retriable error. */
function recordingAppender(failures = 0) {
  const copies: MutableMessage[] = [];
  let attempts = 0;
  const append = (message: MutableMessage): Promise<AppendResult> => {
    if (attempts++ < failures) return Promise.reject(new StreamingError('ON_SHUTDOWN', 'node restarting'));
    copies.push(message);
    return Promise.resolve({ messageId: `m${copies.length}`, timeTick: BigInt(copies.length), lastConfirmed: 'm0' });
  };
  return { copies, append };
}

function request(message: Uint8Array, requestId = ''): BroadcastRequest {
  return { message: Buffer.from(message), requestId };
}

function broadcastBytes(): Uint8Array {
  return encodeMessage(
    MessageBuilder.dropCollection()
      .header({ collectionId: 449n })
      .body({ collectionName: 'docs' })
      .broadcast(VCHANNELS)
      .build(),
  );
}

/**
 * Calls the unary handler (of a service built from `options`, or `options` itself) as grpc-js would and
 * resolves with its answer. `cancel` makes the call emit 'cancelled', as when the client's deadline passes.
 */
function call(
  options: BroadcastServiceOptions | StreamingCoordBroadcastServiceServer,
  req: BroadcastRequest,
  cancel?: Promise<void>,
): Promise<{ response?: BroadcastResponse; error?: Partial<StatusObject>; info?: StreamingErrorInfo }> {
  const service = 'broadcast' in options ? options : broadcastService(options);
  const fakeCall = Object.assign(new EventEmitter(), { request: req }) as unknown as ServerUnaryCall<
    BroadcastRequest,
    BroadcastResponse
  >;
  void cancel?.then(() => fakeCall.emit('cancelled'));
  return new Promise((resolve) => {
    const callback: sendUnaryData<BroadcastResponse> = (error, response) => {
      if (error) {
        const e = error as Partial<StatusObject> & ServerErrorResponse;
        resolve({ error: e, info: readStreamingErrorMetadata(e.metadata) });
      } else resolve({ response: response ?? undefined });
    };
    service.broadcast(fakeCall, callback);
  });
}

/** Waits (for microtasks and I/O, not for logic timing) until `predicate` holds. */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  if (!predicate()) throw new Error('timed out');
}

describe('broadcastService', () => {
  it('appends directly in standalone mode, retrying retriable failures, and answers per-vchannel results', async () => {
    const clock = new ManualClock();
    const { copies, append } = recordingAppender(1);
    const answer = call({ append, tso: tso(), walName: 'memory', clock }, request(broadcastBytes()));
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(50);
    const { response } = await answer;
    expect(response!.broadcastId).toBe(500n);
    expect(response!.walName).toBe('memory');
    expect([...response!.results.keys()]).toEqual(VCHANNELS);
    expect(copies.map((c) => c.broadcastHeader?.broadcastId)).toEqual([500n, 500n]);
  });

  it('answers a retry with the request id of a finished broadcast with its outcome in standalone mode, appending nothing', async () => {
    const { copies, append } = recordingAppender();
    const service = broadcastService({ append, tso: tso(), walName: 'memory' });
    const first = await call(service, request(broadcastBytes(), 'req-1'));
    const retry = await call(service, request(broadcastBytes(), 'req-1'));
    expect(retry.response).toEqual(first.response);
    expect(copies).toHaveLength(2);
    const other = await call(service, request(broadcastBytes(), 'req-2'));
    expect(other.response!.broadcastId).toBe(501n);
    const reused = encodeMessage(
      MessageBuilder.dropCollection().header({ collectionId: 450n }).body({}).broadcast(VCHANNELS).build(),
    );
    const { info } = await call(service, request(reused, 'req-1'));
    expect(info).toEqual(expect.objectContaining({ code: STREAMING_ERROR_NUMBERS.INVALID_ARGUMENT, retriable: false }));
    expect(copies).toHaveLength(4);
  });

  it('answers a malformed message with INVALID_ARGUMENT', async () => {
    const { append } = recordingAppender();
    const single = encodeMessage(
      MessageBuilder.dropCollection()
        .header({ collectionId: 1n })
        .body({ collectionName: 'x' })
        .vchannel(VCHANNELS[0]!)
        .build(),
    );
    const { error, info } = await call({ append, tso: tso(), walName: 'memory' }, request(single));
    expect(error!.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(info).toEqual(expect.objectContaining({ code: STREAMING_ERROR_NUMBERS.INVALID_ARGUMENT, retriable: false }));
  });

  it('keeps the code of a non-retriable append error', async () => {
    const append = (): Promise<AppendResult> => Promise.reject(new StreamingError('VCHANNEL_DROPPED', 'dropped'));
    const { info } = await call({ append, tso: tso(), walName: 'memory' }, request(broadcastBytes()));
    expect(info!.code).toBe(STREAMING_ERROR_NUMBERS.VCHANNEL_DROPPED);
  });

  it('answers COORDINATOR_NOT_ACTIVE, retriable, on a standby coordinator', async () => {
    const { error, info } = await call({ broadcaster: () => undefined, walName: 'memory' }, request(broadcastBytes()));
    expect(error!.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(info).toEqual({ code: 104, message: expect.stringContaining('standby') as unknown, retriable: true });
  });

  describe('with a broadcaster', () => {
    let dir: string;
    let kv: EmbeddedMetaKv;

    beforeEach(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'broadcast-service-'));
      kv = await EmbeddedMetaKv.open({ path: dir });
    });

    afterEach(async () => {
      await kv.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('broadcasts through the broadcaster of the active coordinator', async () => {
      const { copies, append } = recordingAppender();
      await using broadcaster = await Broadcaster.start({ kv, prefix: 'coord/', guard: () => [], append, tso: tso() });
      const { response } = await call(
        { broadcaster: () => broadcaster, walName: 'woodpecker' },
        request(broadcastBytes()),
      );
      expect(response!.broadcastId).toBe(500n);
      expect(response!.walName).toBe('woodpecker');
      expect([...response!.results.keys()]).toEqual(VCHANNELS);
      expect(copies).toHaveLength(2);
    });

    it('answers the retry of a call cancelled by its client deadline with the outcome of the broadcast that call started', async () => {
      const copies: MutableMessage[] = [];
      const slow = deferred<void>();
      const append = async (message: MutableMessage): Promise<AppendResult> => {
        if (copies.length === 0) await slow.promise;
        copies.push(message);
        return { messageId: `m${copies.length}`, timeTick: BigInt(copies.length), lastConfirmed: 'm0' };
      };
      await using broadcaster = await Broadcaster.start({ kv, prefix: 'coord/', guard: () => [], append, tso: tso() });
      const service = broadcastService({ broadcaster: () => broadcaster, walName: 'woodpecker' });
      const deadline = deferred<void>();
      const first = call(service, request(broadcastBytes(), 'req-1'), deadline.promise);
      await until(() => broadcaster.inFlight === 1);
      deadline.resolve();
      expect((await first).info).toEqual(expect.objectContaining({ code: STREAMING_ERROR_NUMBERS.OUTCOME_UNKNOWN }));
      const retry = call(service, request(broadcastBytes(), 'req-1'));
      slow.resolve();
      const { response } = await retry;
      expect(response!.broadcastId).toBe(500n);
      expect([...response!.results.keys()]).toEqual(VCHANNELS);
      expect(copies.map((c) => c.broadcastHeader?.broadcastId)).toEqual([500n, 500n]);
    });

    it('answers COORDINATOR_NOT_ACTIVE once the broadcaster stopped', async () => {
      const { append } = recordingAppender();
      const broadcaster = await Broadcaster.start({ kv, prefix: 'coord/', guard: () => [], append, tso: tso() });
      await broadcaster.close();
      const { info } = await call({ broadcaster: () => broadcaster, walName: 'memory' }, request(broadcastBytes()));
      expect(info).toEqual(expect.objectContaining({ code: 104, retriable: true }));
    });
  });
});
