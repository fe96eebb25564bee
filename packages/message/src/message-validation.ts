import type { CollectionSchema } from './gen/streamsvc/message/v1/schema.js';
import type { FieldData } from './gen/streamsvc/message/v1/field_data.js';
import type { DeleteBody, DeleteHeader, InsertBody, InsertHeader } from './gen/streamsvc/message/v1/messages.js';
import { DataType } from './data-type.js';

// Structural checks run by the builders. They catch what would otherwise surface far away — in the
// flusher writing a column of the wrong length, or a delegator indexing past a vector — and report it
// where the message is made. Each returns a description of the first problem, or undefined.

type ColumnCase = NonNullable<FieldData['column']>['$case'];

const COLUMN_OF: ReadonlyMap<number, ColumnCase> = new Map<number, ColumnCase>([
  [DataType.Bool, 'bools'],
  [DataType.Int8, 'ints'],
  [DataType.Int16, 'ints'],
  [DataType.Int32, 'ints'],
  [DataType.Int64, 'longs'],
  [DataType.Float, 'floats'],
  [DataType.Double, 'doubles'],
  [DataType.VarChar, 'strings'],
  [DataType.Json, 'jsons'],
  [DataType.FloatVector, 'floatVector'],
]);

/** Checks an Insert: rows in the header add up to the body's num_rows, every column has num_rows values. */
export function validateInsert(header: InsertHeader, body: InsertBody): string | undefined {
  if (header.partitions.length === 0) return 'Insert header lists no partition';
  const headerRows = header.partitions.reduce((sum, p) => sum + p.rows, 0);
  if (headerRows !== body.numRows) {
    return `Insert header counts ${headerRows} rows but the body has num_rows ${body.numRows}`;
  }
  const seen = new Set<bigint>();
  for (const field of body.fields) {
    if (seen.has(field.fieldId)) return `Insert body has field ${field.fieldId} twice`;
    seen.add(field.fieldId);
    const problem = checkColumn(field, body.numRows);
    if (problem !== undefined) return `Insert field ${field.fieldId}: ${problem}`;
  }
  return undefined;
}

function checkColumn(field: FieldData, numRows: number): string | undefined {
  const expected = COLUMN_OF.get(field.dataType);
  if (expected === undefined) return `unknown data type ${field.dataType}`;
  const column = field.column;
  if (column === undefined) return 'has no column data';
  if (column.$case !== expected)
    return `data type ${field.dataType} needs a "${expected}" column, got "${column.$case}"`;
  if (field.valid.length !== 0 && field.valid.length !== numRows) {
    return `has ${field.valid.length} validity flags for ${numRows} rows`;
  }
  let values: number;
  switch (column.$case) {
    case 'floatVector': {
      const { dim } = column.floatVector;
      if (dim <= 0) return 'float vector column has dim 0';
      if (column.floatVector.values.length !== dim * numRows) {
        return `float vector column has ${column.floatVector.values.length} floats, expected dim ${dim} × ${numRows} rows`;
      }
      return undefined;
    }
    case 'bools':
      values = column.bools.values.length;
      break;
    case 'ints':
      values = column.ints.values.length;
      break;
    case 'longs':
      values = column.longs.values.length;
      break;
    case 'floats':
      values = column.floats.values.length;
      break;
    case 'doubles':
      values = column.doubles.values.length;
      break;
    case 'strings':
      values = column.strings.values.length;
      break;
    case 'jsons':
      values = column.jsons.values.length;
      break;
  }
  return values === numRows ? undefined : `column has ${values} values for ${numRows} rows`;
}

/** Checks a Delete: it carries primary keys, as many as the header's row count. */
export function validateDelete(header: DeleteHeader, body: DeleteBody): string | undefined {
  const keys = body.primaryKeys?.keys;
  if (keys === undefined) return 'Delete body has no primary keys';
  const count = keys.$case === 'intKeys' ? keys.intKeys.values.length : keys.stringKeys.values.length;
  if (count !== header.rows) return `Delete header counts ${header.rows} rows but the body has ${count} primary keys`;
  return undefined;
}

/**
 * Checks a collection schema: unique non-empty field names and ids, known types, exactly one primary key
 * of type Int64 or VarChar (not nullable), a positive dim on every float vector.
 */
export function validateCollectionSchema(schema: CollectionSchema | undefined): string | undefined {
  if (schema === undefined) return 'the collection schema is missing';
  if (schema.fields.length === 0) return 'the collection schema has no fields';
  const ids = new Set<bigint>();
  const names = new Set<string>();
  let primaryKeys = 0;
  for (const f of schema.fields) {
    const which = `schema field ${JSON.stringify(f.name)} (id ${f.fieldId})`;
    if (f.name === '') return `schema field ${f.fieldId} has no name`;
    if (ids.has(f.fieldId)) return `schema field id ${f.fieldId} is used twice`;
    if (names.has(f.name)) return `schema field name ${JSON.stringify(f.name)} is used twice`;
    ids.add(f.fieldId);
    names.add(f.name);
    if (!COLUMN_OF.has(f.dataType)) return `${which} has unknown data type ${f.dataType}`;
    if (f.dataType === DataType.FloatVector && f.dim <= 0) return `${which} is a float vector without a dim`;
    if (f.isPrimaryKey) {
      primaryKeys++;
      if (f.dataType !== DataType.Int64 && f.dataType !== DataType.VarChar) {
        return `${which} is the primary key but has type ${f.dataType}; primary keys are Int64 or VarChar`;
      }
      if (f.nullable) return `${which} is the primary key and cannot be nullable`;
    }
  }
  if (primaryKeys !== 1) return `the collection schema has ${primaryKeys} primary-key fields; exactly one is required`;
  return undefined;
}
