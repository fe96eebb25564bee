import { DataType, MessageBuilder, MessageType, vchannelName } from '@streamsvc/message';
import type { AnyImmutableMessage, MutableMessage } from '@streamsvc/message';

/** User properties as the suite writes them. */
export type Props = Readonly<Record<string, string>>;

/** The user property carrying a message's unique key within its pchannel (Milvus: `id`). */
export const KEY = 'id';
/** A user property with the same value everywhere (Milvus: `const`). */
export const CONST = 'const';
/** The user property of a marker naming what it ends (Milvus: `term`). */
export const MARKER = 'term';

const encoder = new TextEncoder();

/** The vchannel of collection `collectionId` (shard 0) on `pchannel`. */
export function vchannelOf(pchannel: string, collectionId: bigint): string {
  return vchannelName(pchannel, collectionId, 0);
}

/** The collection id of the vchannels the suite makes: the number before `v0`. */
export function collectionIdOf(vchannel: string): bigint {
  return BigInt(/_(\d+)v\d+$/.exec(vchannel)![1]!);
}

/** Properties every suite message carries: its key and the constant one. */
export function keyed(key: string, extra: Props = {}): Props {
  return { [KEY]: key, [CONST]: 'c', ...extra };
}

/** CreateCollection of the vchannel's collection, with partitions `partitionIds` (default [1, 2]). */
export function createCollection(
  vchannel: string,
  key: string,
  partitionIds: readonly bigint[] = [1n, 2n],
): MutableMessage {
  const collectionId = collectionIdOf(vchannel);
  return MessageBuilder.createCollection()
    .header({ collectionId, partitionIds: [...partitionIds] })
    .body({
      collectionName: `c${collectionId}`,
      schema: {
        name: `c${collectionId}`,
        fields: [
          { fieldId: 100n, name: 'pk', dataType: DataType.Int64, isPrimaryKey: true },
          { fieldId: 101n, name: 'vec', dataType: DataType.FloatVector, dim: 2 },
        ],
      },
      partitionNames: partitionIds.map((p) => `p${p}`),
    })
    .vchannel(vchannel)
    .properties(keyed(key))
    .build();
}

/** DropCollection of the vchannel's collection. */
export function dropCollection(vchannel: string, key: string): MutableMessage {
  return MessageBuilder.dropCollection()
    .header({ collectionId: collectionIdOf(vchannel) })
    .vchannel(vchannel)
    .properties(keyed(key))
    .build();
}

/** CreatePartition `partitionId` in the vchannel's collection. */
export function createPartition(vchannel: string, partitionId: bigint, key: string): MutableMessage {
  return MessageBuilder.createPartition()
    .header({ collectionId: collectionIdOf(vchannel), partitionId })
    .vchannel(vchannel)
    .properties(keyed(key))
    .build();
}

/** DropPartition `partitionId` of the vchannel's collection. */
export function dropPartition(vchannel: string, partitionId: bigint, key: string): MutableMessage {
  return MessageBuilder.dropPartition()
    .header({ collectionId: collectionIdOf(vchannel), partitionId })
    .vchannel(vchannel)
    .properties(keyed(key))
    .build();
}

/** An Insert of one row (primary key derived from the key) into `partitionId`. */
export function insert(vchannel: string, partitionId: bigint, key: string, extra: Props = {}): MutableMessage {
  const pk = BigInt(hash32(key));
  return MessageBuilder.insert()
    .header({ collectionId: collectionIdOf(vchannel), partitions: [{ partitionId, rows: 1, binarySize: 16 }] })
    .body({
      numRows: 1,
      fields: [
        { fieldId: 100n, dataType: DataType.Int64, column: { $case: 'longs', longs: { values: [pk] } } },
        {
          fieldId: 101n,
          dataType: DataType.FloatVector,
          column: { $case: 'floatVector', floatVector: { dim: 2, values: [Number(pk % 1000n), 1] } },
        },
      ],
    })
    .vchannel(vchannel)
    .properties(keyed(key, extra))
    .build();
}

/** A Delete of one primary key from `partitionId`. */
export function deleteRows(vchannel: string, partitionId: bigint, key: string): MutableMessage {
  return MessageBuilder.delete()
    .header({ collectionId: collectionIdOf(vchannel), rows: 1 })
    .body({ primaryKeys: { keys: { $case: 'intKeys', intKeys: { values: [7n] } } }, partitionId })
    .vchannel(vchannel)
    .properties(keyed(key))
    .build();
}

/** A Data message whose payload names the key (padded to `padTo` bytes when given). */
export function data(vchannel: string, key: string, extra: Props = {}, padTo = 0): MutableMessage {
  return MessageBuilder.data(encoder.encode(`payload of ${key}`.padEnd(padTo, '.')))
    .vchannel(vchannel)
    .properties(keyed(key, extra))
    .build();
}

/** BeginTxn with `keepaliveMs` (0 = the WAL's default). */
export function beginTxn(vchannel: string, keepaliveMs: number, key: string): MutableMessage {
  return MessageBuilder.beginTxn().header({ keepaliveMs }).vchannel(vchannel).properties(keyed(key)).build();
}

/** CommitTxn of `txnId`; its properties also name the key under `commit`. */
export function commitTxn(vchannel: string, txnId: bigint, key: string): MutableMessage {
  return MessageBuilder.commitTxn()
    .vchannel(vchannel)
    .properties(keyed(key, { commit: key }))
    .build()
    .withTxnContext({ txnId });
}

/** RollbackTxn of `txnId`. */
export function rollbackTxn(vchannel: string, txnId: bigint, key: string): MutableMessage {
  return MessageBuilder.rollbackTxn().vchannel(vchannel).properties(keyed(key)).build().withTxnContext({ txnId });
}

/** A Data message that ends a phase on `vchannel`: readers stop at it. */
export function marker(vchannel: string, tag: string): MutableMessage {
  return data(vchannel, `${tag}/marker/${vchannel}`, { [MARKER]: tag });
}

/** True when `message` is the marker of phase `tag`. */
export function isMarker(message: AnyImmutableMessage, tag: string): boolean {
  return message.type !== MessageType.Txn && message.userProperties.get(MARKER) === tag;
}

/** The key of a delivered message: its `id` property (the commit's for a Txn), or a description. */
export function keyOfDelivered(message: AnyImmutableMessage): string {
  const props = message.type === MessageType.Txn ? message.commit.userProperties : message.userProperties;
  return props.get(KEY) ?? `<${message.type === MessageType.Txn ? 'Txn' : message.typeName}@${message.timeTick}>`;
}

/** The WAL term a delivered message was appended under (a Txn's commit's). */
export function termOf(message: AnyImmutableMessage): bigint | undefined {
  return message.type === MessageType.Txn ? message.commit.walTerm : message.walTerm;
}

/** FNV-1a over the UTF-16 code units: a short stable digest for payload comparison and primary keys. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
