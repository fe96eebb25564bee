// fast-check arbitraries for every message type's header and body. Values are chosen to survive the
// protobuf round trip exactly: floats are 32-bit, strings are well-formed UTF-16, bytes are Buffers
// (what the generated decoder returns).
import fc from 'fast-check';
import { DataType, MessageType } from '../../src/index.js';
import type { CollectionSchema, FieldData, HeaderInit, BodyInit, WritableMessageType } from '../../src/index.js';

const MAX_I64 = (1n << 63n) - 1n;
export const id64 = fc.bigInt({ min: 0n, max: MAX_I64 });
export const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
export const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const count = fc.integer({ min: 0, max: 1_000_000 });
const bytes = fc.uint8Array({ maxLength: 16 }).map((u) => Buffer.from(u));
const i64 = fc.bigInt({ min: -(1n << 63n), max: MAX_I64 });

/** User properties: keys never start with `_` and are never empty. */
export const userProperties = fc.dictionary(
  text.filter((k) => k !== '' && !k.startsWith('_')),
  text,
  { maxKeys: 4 },
);

type Column = NonNullable<FieldData['column']>;
const SCALARS = [
  DataType.Bool,
  DataType.Int8,
  DataType.Int16,
  DataType.Int32,
  DataType.Int64,
  DataType.Float,
  DataType.Double,
  DataType.VarChar,
  DataType.Json,
  DataType.FloatVector,
] as const;

function column(dataType: (typeof SCALARS)[number], rows: number): fc.Arbitrary<Column> {
  const n = { minLength: rows, maxLength: rows };
  switch (dataType) {
    case DataType.Bool:
      return fc.array(fc.boolean(), n).map((values) => ({ $case: 'bools', bools: { values } }));
    case DataType.Int8:
    case DataType.Int16:
    case DataType.Int32:
      return fc.array(fc.integer(), n).map((values) => ({ $case: 'ints', ints: { values } }));
    case DataType.Int64:
      return fc.array(i64, n).map((values) => ({ $case: 'longs', longs: { values } }));
    case DataType.Float:
      return fc.array(fc.float(), n).map((values) => ({ $case: 'floats', floats: { values } }));
    case DataType.Double:
      return fc.array(fc.double(), n).map((values) => ({ $case: 'doubles', doubles: { values } }));
    case DataType.VarChar:
      return fc.array(text, n).map((values) => ({ $case: 'strings', strings: { values } }));
    case DataType.Json:
      return fc.array(bytes, n).map((values) => ({ $case: 'jsons', jsons: { values } }));
    case DataType.FloatVector:
      return fc
        .integer({ min: 1, max: 4 })
        .chain((dim) =>
          fc
            .array(fc.float(), { minLength: dim * rows, maxLength: dim * rows })
            .map((values): Column => ({ $case: 'floatVector', floatVector: { dim, values } })),
        );
  }
}

function fieldData(fieldId: bigint, rows: number): fc.Arbitrary<FieldData> {
  return fc.constantFrom(...SCALARS).chain((dataType) =>
    fc.record({
      fieldId: fc.constant(fieldId),
      dataType: fc.constant(dataType),
      column: column(dataType, rows),
      valid: fc.oneof(fc.constant([] as boolean[]), fc.array(fc.boolean(), { minLength: rows, maxLength: rows })),
    }),
  );
}

const insert = fc
  .array(fc.record({ partitionId: id64, rows: fc.integer({ min: 0, max: 3 }), binarySize: count, segmentId: id64 }), {
    minLength: 1,
    maxLength: 3,
  })
  .chain((partitions) => {
    const numRows = partitions.reduce((n, p) => n + p.rows, 0);
    return fc
      .uniqueArray(id64, { maxLength: 4 })
      .chain((ids) => fc.tuple(...ids.map((id) => fieldData(id, numRows))))
      .map((fields) => ({ header: { collectionId: 449n, partitions }, body: { fields, numRows } }));
  });

const del = fc
  .oneof(
    fc.array(i64, { maxLength: 5 }).map((values) => ({ keys: { $case: 'intKeys' as const, intKeys: { values } } })),
    fc
      .array(text, { maxLength: 5 })
      .map((values) => ({ keys: { $case: 'stringKeys' as const, stringKeys: { values } } })),
  )
  .chain((primaryKeys) => {
    const rows =
      primaryKeys.keys.$case === 'intKeys'
        ? primaryKeys.keys.intKeys.values.length
        : primaryKeys.keys.stringKeys.values.length;
    return fc.record({
      header: fc.record({ collectionId: id64, rows: fc.constant(rows) }),
      body: fc.record({ primaryKeys: fc.constant(primaryKeys), partitionId: id64 }),
    });
  });

/** A valid schema: field 0 is the primary key, names and ids unique. */
export const collectionSchema: fc.Arbitrary<CollectionSchema> = fc
  .record({
    name: text,
    description: text,
    version: u64,
    pk: fc.constantFrom(DataType.Int64, DataType.VarChar),
    others: fc.array(
      fc.record({
        dataType: fc.constantFrom(...SCALARS),
        nullable: fc.boolean(),
        dim: fc.integer({ min: 1, max: 4096 }),
        maxLength: count,
        description: text,
      }),
      { maxLength: 5 },
    ),
  })
  .map(({ name, description, version, pk, others }) => ({
    name,
    description,
    version,
    fields: [
      {
        fieldId: 100n,
        name: 'pk',
        dataType: pk,
        isPrimaryKey: true,
        nullable: false,
        dim: 0,
        maxLength: 0,
        description: '',
      },
      ...others.map((f, i) => ({ ...f, fieldId: BigInt(101 + i), name: `f${i}`, isPrimaryKey: false })),
    ],
  }));

const empty = fc.constant({});

/** A header and body for `type`, as a caller would pass them to the builder. */
export function headerAndBody<T extends WritableMessageType>(
  type: T,
): fc.Arbitrary<{ header: HeaderInit<T>; body: BodyInit<T> }>;
export function headerAndBody(type: WritableMessageType): fc.Arbitrary<{ header: object; body: object }> {
  const hb = (
    header: fc.Arbitrary<object>,
    body: fc.Arbitrary<object>,
  ): fc.Arbitrary<{ header: object; body: object }> => fc.record({ header, body });
  switch (type) {
    case MessageType.TimeTick:
    case MessageType.CommitTxn:
    case MessageType.RollbackTxn:
      return hb(empty, empty);
    case MessageType.Insert:
      return insert;
    case MessageType.Delete:
      return del;
    case MessageType.Flush:
      return hb(fc.record({ collectionId: id64, partitionId: id64, segmentId: id64 }), empty);
    case MessageType.CreateCollection:
      return fc.array(id64, { minLength: 1, maxLength: 3 }).chain((partitionIds) =>
        hb(
          fc.record({ collectionId: id64, partitionIds: fc.constant(partitionIds) }),
          fc.record({
            collectionName: text,
            dbName: text,
            schema: collectionSchema,
            partitionNames: fc.array(text, { minLength: partitionIds.length, maxLength: partitionIds.length }),
          }),
        ),
      );
    case MessageType.DropCollection:
      return hb(fc.record({ collectionId: id64 }), fc.record({ collectionName: text, dbName: text }));
    case MessageType.CreatePartition:
    case MessageType.DropPartition:
      return hb(fc.record({ collectionId: id64, partitionId: id64 }), fc.record({ partitionName: text }));
    case MessageType.ManualFlush:
      return hb(fc.record({ collectionId: id64, flushTs: u64, segmentIds: fc.array(id64, { maxLength: 4 }) }), empty);
    case MessageType.CreateSegment:
      return hb(
        fc.record({
          collectionId: id64,
          partitionId: id64,
          segmentId: id64,
          storageVersion: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          maxSegmentSize: count,
          maxRows: count,
          level: fc.integer({ min: 0, max: 3 }),
        }),
        empty,
      );
    case MessageType.Import:
      return hb(
        fc.record({ collectionId: id64 }),
        fc.record({
          jobId: id64,
          partitionIds: fc.array(id64, { maxLength: 3 }),
          files: fc.array(fc.record({ id: id64, paths: fc.array(text, { maxLength: 3 }) }), { maxLength: 3 }),
          options: fc.dictionary(text, text, { maxKeys: 3 }).map((o) => new Map(Object.entries(o))),
        }),
      );
    case MessageType.SchemaChange:
      return hb(
        fc.record({ collectionId: id64, flushedSegmentIds: fc.array(id64, { maxLength: 3 }) }),
        fc.record({ schema: collectionSchema }),
      );
    case MessageType.Data:
      return hb(empty, fc.uint8Array({ maxLength: 64 }));
    case MessageType.BeginTxn:
      return hb(fc.record({ keepaliveMs: count }), empty);
  }
}
