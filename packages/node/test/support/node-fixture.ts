import { credentials } from '@grpc/grpc-js';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { noopLogger, systemClock } from '@streamsvc/common';
import { DataType, MessageBuilder, encodeMessage, vchannelName } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import { StreamingNodeHandlerServiceClient, StreamingNodeManagerServiceClient } from '@streamsvc/proto';
import type { ConsumeRequest, ConsumeResponse, ProduceRequest, ProduceResponse } from '@streamsvc/proto';
import { BatchTsoAllocator, wallClockTsoSource } from '@streamsvc/tso';
import { memoryWal } from '@streamsvc/wal-memory';

import { StreamingNode, WalManager, startGrpcServer } from '../../src/index.js';
import type { GrpcServerHandle } from '../../src/index.js';

export const PCHANNEL = 'node-dml_0';
export const VCHANNEL = vchannelName(PCHANNEL, 7n, 0);

export interface NodeFixture extends AsyncDisposable {
  readonly manager: WalManager;
  readonly node: StreamingNode;
  readonly grpc: GrpcServerHandle;
  readonly handler: StreamingNodeHandlerServiceClient;
  readonly managerClient: StreamingNodeManagerServiceClient;
}

function tso(): BatchTsoAllocator {
  return new BatchTsoAllocator({ source: wallClockTsoSource() });
}

/** A node over the memory backend on 127.0.0.1:<random>, with PCHANNEL assigned under term 1. */
export async function startNode(options: { maxMessageBytes?: number } = {}): Promise<NodeFixture> {
  const opener = await memoryWal.createOpener(memoryWal.configSchema.parse({}), {
    logger: noopLogger,
    clock: systemClock,
  });
  const manager = new WalManager({
    opener,
    tso: tso(),
    walConfig: {
      timeTickIntervalMs: 20,
      ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
    },
  });
  const node = new StreamingNode({
    manager,
    walName: 'memory',
    idCodec: memoryWal.messageIds,
    node: () => ({ serverId: 1n, address: grpc.address }),
  });
  const grpc = await startGrpcServer({ address: '127.0.0.1:0', register: (s) => node.register(s) });
  await manager.assign(PCHANNEL, 1n);
  const handler = new StreamingNodeHandlerServiceClient(grpc.address, credentials.createInsecure());
  const managerClient = new StreamingNodeManagerServiceClient(grpc.address, credentials.createInsecure());
  return {
    manager,
    node,
    grpc,
    handler,
    managerClient,
    async [Symbol.asyncDispose]() {
      handler.close();
      managerClient.close();
      await node.shutdown();
      await manager.close();
      await grpc.stop(1000);
      await opener.close();
    },
  };
}

export function createCollection(vchannel = VCHANNEL): MutableMessage {
  return MessageBuilder.createCollection()
    .header({ collectionId: 7n, partitionIds: [1n] })
    .body({
      collectionName: 'c',
      schema: { name: 'c', fields: [{ fieldId: 100n, name: 'id', dataType: DataType.Int64, isPrimaryKey: true }] },
    })
    .vchannel(vchannel)
    .build();
}

export function data(text: string, vchannel = VCHANNEL): MutableMessage {
  return MessageBuilder.data(new TextEncoder().encode(text)).vchannel(vchannel).build();
}

export const bytesOf = (m: MutableMessage): Buffer => Buffer.from(encodeMessage(m));

/** Collects stream responses; `next(predicate)` waits (bounded) for the next matching one. */
export class Responses<R> {
  readonly all: R[] = [];
  ended = false;
  #waiters: (() => void)[] = [];

  constructor(stream: { on(event: string, listener: (...args: never[]) => void): unknown }) {
    stream.on('data', (r: R) => {
      this.all.push(r);
      for (const w of this.#waiters.splice(0)) w();
    });
    const end = (): void => {
      this.ended = true;
      for (const w of this.#waiters.splice(0)) w();
    };
    stream.on('end', end);
    stream.on('error', end);
  }

  async waitFor(predicate: (all: readonly R[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.all)) {
      if (this.ended) throw new Error(`stream ended before the condition held; got ${this.all.length} responses`);
      if (Date.now() > deadline)
        throw new Error(`condition not met within ${timeoutMs} ms; got ${this.all.length} responses`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

export type ProduceStream = ClientDuplexStream<ProduceRequest, ProduceResponse>;
export type ConsumeStream = ClientDuplexStream<ConsumeRequest, ConsumeResponse>;
