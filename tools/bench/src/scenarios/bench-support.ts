import { DataType, MessageBuilder } from '@streamsvc/message';
import { BatchTsoAllocator, wallClockTsoSource } from '@streamsvc/tso';

/** A node TSO over an in-process source that follows the wall clock (for WALs opened in the bench). */
export function wallClockTso(): BatchTsoAllocator {
  return new BatchTsoAllocator({ source: wallClockTsoSource() });
}

/**
 * The collection every scenario writes to: one int64 primary key, one partition. Add `.vchannel(v)` or
 * `.broadcast(vchannels)` and build.
 */
export function benchCollection(name: string, collectionId: bigint) {
  return MessageBuilder.createCollection()
    .header({ collectionId, partitionIds: [1n] })
    .body({
      collectionName: name,
      schema: { name, fields: [{ fieldId: 100n, name: 'id', dataType: DataType.Int64, isPrimaryKey: true }] },
    });
}
