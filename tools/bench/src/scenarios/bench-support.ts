import { DataType, MessageBuilder } from '@streamsvc/message';
import { BatchTsoAllocator, tsAtMs } from '@streamsvc/tso';

/** A node TSO over an in-process source that follows the wall clock (for WALs opened in the bench). */
export function wallClockTso(): BatchTsoAllocator {
  let next = tsAtMs(Date.now());
  return new BatchTsoAllocator({
    source: {
      allocate: async (count) => {
        const now = tsAtMs(Date.now());
        if (now > next) next = now;
        const first = next;
        next += BigInt(count);
        return first;
      },
    },
  });
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
