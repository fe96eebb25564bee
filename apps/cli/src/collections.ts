import type { StreamingClient } from '@streamsvc/client';
import { DataType, MessageBuilder, vchannelName } from '@streamsvc/message';

/** The schema the CLI gives collections: an Int64 primary key; `Data` messages carry the payload. */
const SCHEMA = { fields: [{ fieldId: 100n, name: 'id', dataType: DataType.Int64, isPrimaryKey: true }] };

export interface CreatedCollection {
  readonly collection: string;
  readonly collectionId: bigint;
  readonly vchannels: readonly string[];
}

/**
 * Creates a collection with `shards` vchannels spread over the cluster's pchannels: a fresh id from the
 * TSO (unique forever), shard i on pchannel (id + i) mod P, one CreateCollection broadcast to all shards
 * (atomically applied or failed as a whole), with one partition (id 1, `_default`).
 */
export async function createCollection(
  client: StreamingClient,
  name: string,
  shards: number,
): Promise<CreatedCollection> {
  const pchannels = client.topology().pchannels;
  if (pchannels.length === 0) throw new Error('UNAVAILABLE: the server reported no pchannels');
  const collectionId = await client.allocateTimestamp();
  const first = Number(collectionId % BigInt(pchannels.length));
  const vchannels = Array.from({ length: shards }, (_, i) =>
    vchannelName(pchannels[(first + i) % pchannels.length]!, collectionId, i),
  );
  const message = MessageBuilder.createCollection()
    .header({ collectionId, partitionIds: [1n] })
    .body({ collectionName: name, schema: { name, ...SCHEMA }, partitionNames: ['_default'] })
    .broadcast(vchannels)
    .build();
  await client.broadcast(message);
  return { collection: name, collectionId, vchannels };
}
