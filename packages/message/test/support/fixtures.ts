// Small, valid messages of every type for unit tests. Each builder call here is what a caller would
// write, so these double as usage examples.
import {
  counterMessageIdCodec,
  DataType,
  MessageBuilder,
  MessageError,
  MessageType,
  segmentEntryMessageIdCodec,
} from '../../src/index.js';
import type { MessageErrorCode, MutableMessage, WritableMessageType } from '../../src/index.js';

export const VCHANNEL = 'by-dev-dml_0_449v0';
export const OTHER_VCHANNEL = 'by-dev-dml_1_449v1';
export const memoryIds = counterMessageIdCodec('memory');
export const woodpeckerIds = segmentEntryMessageIdCodec('woodpecker');

export const schema = {
  name: 'docs',
  fields: [
    { fieldId: 100n, name: 'id', dataType: DataType.Int64, isPrimaryKey: true },
    { fieldId: 101n, name: 'vec', dataType: DataType.FloatVector, dim: 2 },
    { fieldId: 102n, name: 'title', dataType: DataType.VarChar, nullable: true, maxLength: 64 },
  ],
};

export function insertMessage(vchannel = VCHANNEL): MutableMessage<typeof MessageType.Insert> {
  return MessageBuilder.insert()
    .header({ collectionId: 449n, partitions: [{ partitionId: 1n, rows: 2, binarySize: 40 }] })
    .body({
      numRows: 2,
      fields: [
        { fieldId: 100n, dataType: DataType.Int64, column: { $case: 'longs', longs: { values: [1n, 2n] } } },
        {
          fieldId: 101n,
          dataType: DataType.FloatVector,
          column: { $case: 'floatVector', floatVector: { dim: 2, values: [0.5, 1, 2, 4] } },
        },
        {
          fieldId: 102n,
          dataType: DataType.VarChar,
          column: { $case: 'strings', strings: { values: ['a', ''] } },
          valid: [true, false],
        },
      ],
    })
    .vchannel(vchannel)
    .properties({ user: 'x' })
    .build();
}

/** A valid builder of every writable type, ready for `.build()`. */
export function builderFor(type: WritableMessageType, vchannel: string = VCHANNEL): { build(): MutableMessage } {
  switch (type) {
    case MessageType.TimeTick:
      return MessageBuilder.timeTick();
    case MessageType.Insert:
      return { build: () => insertMessage(vchannel) };
    case MessageType.Delete:
      return MessageBuilder.delete()
        .header({ collectionId: 449n, rows: 2 })
        .body({ primaryKeys: { keys: { $case: 'intKeys', intKeys: { values: [1n, 2n] } } } })
        .vchannel(vchannel);
    case MessageType.Flush:
      return MessageBuilder.flush().header({ collectionId: 449n, partitionId: 1n, segmentId: 7n }).vchannel(vchannel);
    case MessageType.CreateCollection:
      return MessageBuilder.createCollection()
        .header({ collectionId: 449n, partitionIds: [1n] })
        .body({ collectionName: 'docs', schema, partitionNames: ['_default'] })
        .vchannel(vchannel);
    case MessageType.DropCollection:
      return MessageBuilder.dropCollection().header({ collectionId: 449n }).vchannel(vchannel);
    case MessageType.CreatePartition:
      return MessageBuilder.createPartition()
        .header({ collectionId: 449n, partitionId: 2n })
        .body({ partitionName: 'p2' })
        .vchannel(vchannel);
    case MessageType.DropPartition:
      return MessageBuilder.dropPartition().header({ collectionId: 449n, partitionId: 2n }).vchannel(vchannel);
    case MessageType.ManualFlush:
      return MessageBuilder.manualFlush().header({ collectionId: 449n, flushTs: 123n }).vchannel(vchannel);
    case MessageType.CreateSegment:
      return MessageBuilder.createSegment()
        .header({
          collectionId: 449n,
          partitionId: 1n,
          segmentId: 7n,
          maxRows: 1000,
          maxSegmentSize: 1 << 20,
          level: 1,
        })
        .vchannel(vchannel);
    case MessageType.Import:
      return MessageBuilder.import()
        .header({ collectionId: 449n })
        .body({
          jobId: 3n,
          partitionIds: [1n],
          files: [{ id: 1n, paths: ['s3://b/f.parquet'] }],
          options: new Map([['sep', ',']]),
        })
        .vchannel(vchannel);
    case MessageType.SchemaChange:
      return MessageBuilder.schemaChange().header({ collectionId: 449n }).body({ schema }).vchannel(vchannel);
    case MessageType.Data:
      return MessageBuilder.data(new Uint8Array([1, 2, 3])).vchannel(vchannel);
    case MessageType.BeginTxn:
      return MessageBuilder.beginTxn().header({ keepaliveMs: 1000 }).vchannel(vchannel);
    case MessageType.CommitTxn:
      return MessageBuilder.commitTxn().vchannel(vchannel);
    case MessageType.RollbackTxn:
      return MessageBuilder.rollbackTxn().vchannel(vchannel);
  }
}

/**
 * Runs `fn`, expects it to throw a MessageError with `code` (and a `[message]`-prefixed text), and returns
 * the error's text so tests can check that it names the bad input.
 */
export function expectMessageError(fn: () => unknown, code: MessageErrorCode): string {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeDefined();
  expect(MessageError.is(thrown)).toBe(true);
  expect((thrown as MessageError).code).toBe(code);
  expect((thrown as MessageError).message).toMatch(/^\[message\] /);
  return (thrown as MessageError).message;
}
