// Types for the two kafkajs internals the adapter uses (kafkajs 2.2.4, pinned in the catalog; kafkajs
// has no `exports` map, so these deep imports are allowed). Only what `kafkajs-port.ts` touches.
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
    fetch(request: {
      replicaId: number;
      isolationLevel: number;
      maxWaitTime: number;
      minBytes: number;
      maxBytes: number;
      topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
    }): Promise<{ responses: { topicName: string; partitions: InternalFetchPartition[] }[] }>;
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
