// Types for the two kafkajs internals the adapter uses (kafkajs 2.2.4, pinned in the catalog; kafkajs
// has no `exports` map, so these deep imports are allowed). Only what the adapter (`kafkajs-*.ts`) touches.
declare module 'kafkajs/src/cluster/index.js' {
  import type { ISocketFactory, Logger, RetryOptions } from 'kafkajs';

  interface InternalFetchPartition {
    readonly partition: number;
    readonly errorCode: number;
    readonly highWatermark: string;
    readonly messages: readonly {
      readonly offset: string;
      readonly value: Buffer | null;
      readonly isControlRecord?: boolean;
    }[];
  }

  export interface InternalBroker {
    /** The broker's connections; `send` takes a kafkajs protocol request ({ request, response }). */
    readonly connectionPool: { send(protocolRequest: ProtocolRequest): Promise<unknown> };
    disconnect(): Promise<void>;
    fetch(request: {
      replicaId: number;
      isolationLevel: number;
      maxWaitTime: number;
      minBytes: number;
      maxBytes: number;
      topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
    }): Promise<{ responses: { topicName: string; partitions: InternalFetchPartition[] }[] }>;
  }

  /** What kafkajs's connection writes: `encode` resolves with something holding the body in `buf`/`buffer`. */
  export interface ProtocolRequest {
    readonly request: {
      readonly apiKey: number;
      readonly apiVersion: number;
      readonly apiName: string;
      expectResponse(): boolean;
      encode(): Promise<{ readonly buf: Buffer; readonly buffer: Buffer }>;
    };
    readonly response: { decode(payload: Buffer): Promise<unknown>; parse(decoded: unknown): Promise<unknown> };
  }

  export default class Cluster {
    constructor(options: {
      logger: Logger;
      socketFactory: ISocketFactory;
      brokers: string[];
      clientId: string;
      connectionTimeout: number;
      requestTimeout: number;
      enforceRequestTimeout: boolean;
      retry: RetryOptions;
      allowAutoTopicCreation: boolean;
      maxInFlightRequests?: number;
      isolationLevel: number;
    });
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    addTargetTopic(topic: string): Promise<void>;
    refreshMetadata(): Promise<void>;
    refreshMetadataIfNecessary(): Promise<void>;
    isConnected(): boolean;
    removeBroker(options: { host: string; port: number }): void;
    findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number; partitionErrorCode: number }[];
    findBroker(options: { nodeId: string }): Promise<InternalBroker>;
    fetchTopicsOffset(
      topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
    ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  }
}

declare module 'kafkajs/src/network/socketFactory.js' {
  import type { ISocketFactory } from 'kafkajs';

  export default function defaultSocketFactory(): ISocketFactory;
}

// The Produce v3 request and response of kafkajs: the response decoder is the adapter's (it throws
// kafkajs's protocol errors, as its producer's did); the request encoder is only a test's reference.
declare module 'kafkajs/src/protocol/requests/produce/v3/request.js' {
  export default function request(options: {
    acks: number;
    timeout: number;
    compression: number;
    topicData: { topic: string; partitions: { partition: number; messages: { value: Buffer }[] }[] }[];
  }): { encode(): Promise<{ buffer: Buffer }> };
}

declare module 'kafkajs/src/protocol/requests/produce/v3/response.js' {
  export interface ProduceV3Response {
    readonly topics: readonly {
      readonly topicName: string;
      readonly partitions: readonly {
        readonly partition: number;
        readonly errorCode: number;
        readonly baseOffset: string;
      }[];
    }[];
  }
  const response: {
    decode(payload: Buffer): Promise<unknown>;
    parse(decoded: unknown): Promise<ProduceV3Response>;
  };
  export default response;
}

declare module 'kafkajs/src/retry/index.js' {
  import type { RetryOptions } from 'kafkajs';

  export default function createRetry(
    options: RetryOptions,
  ): <T>(fn: (bail: (e: unknown) => void, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>;
}
