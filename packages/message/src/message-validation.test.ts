import { expectMessageError, schema, VCHANNEL } from '../test/support/fixtures.js';
import { DataType } from './data-type.js';
import type { FieldData } from './gen/streamsvc/message/v1/field_data.js';
import type { CollectionSchema } from './gen/streamsvc/message/v1/schema.js';
import { MessageBuilder } from './message-builder.js';
import type { BodyInit } from './message-specs.js';
import type { MessageType } from './message-type.js';
import { validateCollectionSchema } from './message-validation.js';

type InsertBodyInit = BodyInit<typeof MessageType.Insert>;

const longs = (values: bigint[]): FieldData['column'] => ({ $case: 'longs', longs: { values } });

function buildInsert(rows: number[], body: InsertBodyInit): () => unknown {
  return () =>
    MessageBuilder.insert()
      .header({ collectionId: 1n, partitions: rows.map((r, i) => ({ partitionId: BigInt(i + 1), rows: r })) })
      .body(body)
      .vchannel(VCHANNEL)
      .build();
}

describe('Insert validation', () => {
  it('accepts an insert whose columns all have num_rows values', () => {
    expect(
      buildInsert([2], { numRows: 2, fields: [{ fieldId: 1n, dataType: DataType.Int64, column: longs([1n, 2n]) }] }),
    ).not.toThrow();
  });

  it('rejects an insert naming no partition', () => {
    expect(expectMessageError(buildInsert([], { numRows: 0 }), 'INVALID_MESSAGE')).toContain('no partition');
  });

  it('rejects header row counts that differ from the body num_rows', () => {
    expect(expectMessageError(buildInsert([1, 1], { numRows: 3 }), 'INVALID_MESSAGE')).toContain(
      'counts 2 rows but the body has num_rows 3',
    );
  });

  it('rejects a column of the wrong length, kind or type', () => {
    const field = (f: Partial<FieldData>): InsertBodyInit => ({
      numRows: 2,
      fields: [{ fieldId: 7n, dataType: DataType.Int64, ...f }],
    });
    expect(expectMessageError(buildInsert([2], field({ column: longs([1n]) })), 'INVALID_MESSAGE')).toContain(
      'field 7: column has 1 values for 2 rows',
    );
    expect(
      expectMessageError(
        buildInsert([2], field({ column: { $case: 'ints', ints: { values: [1, 2] } } })),
        'INVALID_MESSAGE',
      ),
    ).toContain('needs a "longs" column');
    expect(expectMessageError(buildInsert([2], field({ column: undefined })), 'INVALID_MESSAGE')).toContain(
      'no column data',
    );
    expect(
      expectMessageError(
        buildInsert([2], field({ dataType: 0 as DataType, column: longs([1n, 2n]) })),
        'INVALID_MESSAGE',
      ),
    ).toContain('unknown data type 0');
    expect(
      expectMessageError(buildInsert([2], field({ column: longs([1n, 2n]), valid: [true] })), 'INVALID_MESSAGE'),
    ).toContain('1 validity flags for 2 rows');
  });

  it('rejects a float vector column whose length is not dim × rows, or has no dim', () => {
    const vector = (dim: number, values: number[]): InsertBodyInit => ({
      numRows: 2,
      fields: [
        { fieldId: 1n, dataType: DataType.FloatVector, column: { $case: 'floatVector', floatVector: { dim, values } } },
      ],
    });
    expect(buildInsert([2], vector(2, [1, 2, 3, 4]))).not.toThrow();
    expect(expectMessageError(buildInsert([2], vector(2, [1, 2, 3])), 'INVALID_MESSAGE')).toContain(
      'expected dim 2 × 2 rows',
    );
    expect(expectMessageError(buildInsert([2], vector(0, [])), 'INVALID_MESSAGE')).toContain('dim 0');
  });

  it('rejects the same field twice', () => {
    const f = { fieldId: 1n, dataType: DataType.Int64, column: longs([1n]) };
    expect(expectMessageError(buildInsert([1], { numRows: 1, fields: [f, f] }), 'INVALID_MESSAGE')).toContain(
      'field 1 twice',
    );
  });
});

describe('Delete validation', () => {
  const del = (rows: number, body: BodyInit<typeof MessageType.Delete>) => () =>
    MessageBuilder.delete().header({ collectionId: 1n, rows }).body(body).vchannel(VCHANNEL).build();

  it('accepts int or string primary keys counted by the header', () => {
    expect(del(1, { primaryKeys: { keys: { $case: 'stringKeys', stringKeys: { values: ['a'] } } } })).not.toThrow();
  });

  it('rejects a delete without primary keys or with a different count', () => {
    expect(expectMessageError(del(0, {}), 'INVALID_MESSAGE')).toContain('no primary keys');
    expect(
      expectMessageError(
        del(3, { primaryKeys: { keys: { $case: 'intKeys', intKeys: { values: [1n] } } } }),
        'INVALID_MESSAGE',
      ),
    ).toContain('counts 3 rows but the body has 1 primary keys');
  });
});

describe('collection schema validation', () => {
  const base = (): CollectionSchema => ({
    name: 'c',
    description: '',
    version: 0n,
    fields: schema.fields.map((f) => ({
      nullable: false,
      dim: 0,
      maxLength: 0,
      description: '',
      isPrimaryKey: false,
      ...f,
    })),
  });
  const withField = (i: number, patch: object): CollectionSchema => {
    const s = base();
    s.fields[i] = { ...s.fields[i]!, ...patch };
    return s;
  };

  it('accepts the fixture schema', () => {
    expect(validateCollectionSchema(base())).toBeUndefined();
  });

  it.each([
    ['a missing schema', undefined, 'missing'],
    ['no fields', { ...base(), fields: [] }, 'no fields'],
    ['an unnamed field', withField(1, { name: '' }), 'has no name'],
    ['a repeated field id', withField(1, { fieldId: 100n }), 'id 100 is used twice'],
    ['a repeated field name', withField(1, { name: 'id' }), 'name "id" is used twice'],
    ['an unknown type', withField(2, { dataType: 99 }), 'unknown data type 99'],
    ['a vector without dim', withField(1, { dim: 0 }), 'float vector without a dim'],
    ['a float primary key', withField(0, { dataType: DataType.Float }), 'primary keys are Int64 or VarChar'],
    ['a nullable primary key', withField(0, { nullable: true }), 'cannot be nullable'],
    ['no primary key', withField(0, { isPrimaryKey: false }), '0 primary-key fields'],
    ['two primary keys', withField(2, { isPrimaryKey: true, nullable: false }), '2 primary-key fields'],
  ])('rejects %s', (_what, s, problem) => {
    expect(validateCollectionSchema(s)).toContain(problem);
  });

  it('reports schema problems from CreateCollection and SchemaChange builders as INVALID_MESSAGE', () => {
    const bad = withField(0, { isPrimaryKey: false });
    expectMessageError(
      () =>
        MessageBuilder.createCollection()
          .header({ collectionId: 1n, partitionIds: [1n] })
          .body({ schema: bad })
          .vchannel(VCHANNEL)
          .build(),
      'INVALID_MESSAGE',
    );
    expectMessageError(
      () => MessageBuilder.schemaChange().header({ collectionId: 1n }).body({ schema: bad }).vchannel(VCHANNEL).build(),
      'INVALID_MESSAGE',
    );
  });

  it('rejects CreateCollection partition names that do not match the partition ids', () => {
    const text = expectMessageError(
      () =>
        MessageBuilder.createCollection()
          .header({ collectionId: 1n, partitionIds: [1n, 2n] })
          .body({ schema: base(), partitionNames: ['_default'] })
          .vchannel(VCHANNEL)
          .build(),
      'INVALID_MESSAGE',
    );
    expect(text).toContain('names 1 partitions but its header lists 2');
  });
});
