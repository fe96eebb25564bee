import { BatchTsoAllocator, wallClockTsoSource } from '@streamsvc/tso';
import { DataType, MessageBuilder, vchannelName } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';

export const PCHANNEL = 'test-dml_0';

/** The vchannel of collection `collectionId`, shard 0, on {@link PCHANNEL}. */
export function vchannelOf(collectionId: bigint, pchannel = PCHANNEL): string {
  return vchannelName(pchannel, collectionId, 0);
}

/** A node TSO backed by an in-process source that follows the wall clock. */
export function testTso(): BatchTsoAllocator {
  return new BatchTsoAllocator({ source: wallClockTsoSource() });
}

export function createCollection(vchannel: string, collectionId: bigint, partitions: bigint[] = [1n]): MutableMessage {
  return MessageBuilder.createCollection()
    .header({ collectionId, partitionIds: partitions })
    .body({
      collectionName: `c${collectionId}`,
      schema: {
        name: `c${collectionId}`,
        fields: [
          { fieldId: 100n, name: 'id', dataType: DataType.Int64, isPrimaryKey: true },
          { fieldId: 101n, name: 'vec', dataType: DataType.FloatVector, dim: 2 },
        ],
      },
      partitionNames: partitions.map((p) => `p${p}`),
    })
    .vchannel(vchannel)
    .build();
}

export function dropCollection(vchannel: string, collectionId: bigint): MutableMessage {
  return MessageBuilder.dropCollection().header({ collectionId }).vchannel(vchannel).build();
}

export function insert(
  vchannel: string,
  collectionId: bigint,
  partitionId: bigint,
  pks: bigint[],
  props: Record<string, string> = {},
): MutableMessage {
  return MessageBuilder.insert()
    .header({ collectionId, partitions: [{ partitionId, rows: pks.length, binarySize: pks.length * 16 }] })
    .body({
      numRows: pks.length,
      fields: [
        { fieldId: 100n, dataType: DataType.Int64, column: { $case: 'longs', longs: { values: pks } } },
        {
          fieldId: 101n,
          dataType: DataType.FloatVector,
          column: { $case: 'floatVector', floatVector: { dim: 2, values: pks.flatMap((pk) => [Number(pk), 1]) } },
        },
      ],
    })
    .vchannel(vchannel)
    .properties(props)
    .build();
}

export function data(vchannel: string, text: string, props: Record<string, string> = {}): MutableMessage {
  return MessageBuilder.data(new TextEncoder().encode(text)).vchannel(vchannel).properties(props).build();
}

export function beginTxn(vchannel: string, keepaliveMs: number): MutableMessage {
  return MessageBuilder.beginTxn().header({ keepaliveMs }).vchannel(vchannel).build();
}

export function commitTxn(vchannel: string, txnId: bigint, props: Record<string, string> = {}): MutableMessage {
  return MessageBuilder.commitTxn().vchannel(vchannel).properties(props).build().withTxnContext({ txnId });
}

export function rollbackTxn(vchannel: string, txnId: bigint): MutableMessage {
  return MessageBuilder.rollbackTxn().vchannel(vchannel).build().withTxnContext({ txnId });
}

/** Resolves `promise` or fails after `ms` with `what` in the message. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}
