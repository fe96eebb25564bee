/**
 * Column types of a collection schema (`FieldSchema.dataType`, `FieldData.dataType`). Numbers follow
 * Milvus `schema.proto` and match `DataType` in `proto/streamsvc/message/v1/schema.proto` (a test checks).
 */
export const DataType = {
  Bool: 1,
  Int8: 2,
  Int16: 3,
  Int32: 4,
  Int64: 5,
  Float: 10,
  Double: 11,
  VarChar: 21,
  Json: 23,
  FloatVector: 101,
} as const;

/** A column type number, one of the {@link DataType} values (0 = unspecified, rejected by validation). */
export type DataType = (typeof DataType)[keyof typeof DataType];

/**
 * Resource domains a broadcast can lock (`ResourceKey.domain`). Numbers follow Milvus and match
 * `ResourceDomain` in `proto/streamsvc/message/v1/envelope.proto`.
 */
export const ResourceDomain = {
  CollectionName: 2,
  DbName: 3,
  Privilege: 4,
  Cluster: 127,
} as const;

/** One of the {@link ResourceDomain} values. */
export type ResourceDomain = (typeof ResourceDomain)[keyof typeof ResourceDomain];
