import { MessageError } from './message-error.js';
import {
  ALL_MESSAGE_TYPES,
  isExclusiveMessageType,
  isMessageType,
  isSelfControlledMessageType,
  isSystemMessageType,
  isTxnBodyMessageType,
  messageTypeName,
  MessageType,
  parseMessageType,
} from './message-type.js';
import type { MessageTypeName } from './message-type.js';

const only = (predicate: (t: MessageType) => boolean): MessageTypeName[] =>
  ALL_MESSAGE_TYPES.filter(predicate).map((t) => messageTypeName(t));

describe('MessageType', () => {
  it('numbers the types like Milvus 2.6, with Data at 100', () => {
    expect(MessageType).toEqual({
      TimeTick: 1,
      Insert: 2,
      Delete: 3,
      Flush: 4,
      CreateCollection: 5,
      DropCollection: 6,
      CreatePartition: 7,
      DropPartition: 8,
      ManualFlush: 9,
      CreateSegment: 10,
      Import: 11,
      SchemaChange: 12,
      Data: 100,
      BeginTxn: 900,
      CommitTxn: 901,
      RollbackTxn: 902,
      Txn: 999,
    });
  });

  it('maps every number to its name and back', () => {
    for (const [name, n] of Object.entries(MessageType)) {
      expect(messageTypeName(n)).toBe(name);
      expect(parseMessageType(name)).toBe(n);
      expect(parseMessageType(String(n))).toBe(n);
      expect(parseMessageType(n)).toBe(n);
      expect(isMessageType(n)).toBe(true);
    }
    expect(ALL_MESSAGE_TYPES).toHaveLength(17);
  });

  it('rejects unknown numbers, names and non-canonical decimals with UNKNOWN_MESSAGE_TYPE', () => {
    for (const bad of [0, 13, 1000, -1, 2.5, '0', '02', ' 2', '2 ', 'insert', 'toString', '', '__proto__']) {
      let thrown: unknown;
      try {
        parseMessageType(bad);
      } catch (e) {
        thrown = e;
      }
      expect(MessageError.is(thrown, 'UNKNOWN_MESSAGE_TYPE')).toBe(true);
    }
    expect(() => messageTypeName(42)).toThrow('[message] unknown message type 42');
    expect(isMessageType(0)).toBe(false);
    expect(isMessageType('2')).toBe(false);
  });

  it('classifies system types', () => {
    expect(only(isSystemMessageType)).toEqual(['TimeTick', 'BeginTxn', 'CommitTxn', 'RollbackTxn', 'Txn']);
  });

  it('classifies the WAL-only (self-controlled) types', () => {
    expect(only(isSelfControlledMessageType)).toEqual(['TimeTick', 'Flush', 'CreateSegment']);
  });

  it('classifies the exclusive DDL types that take the vchannel write lock', () => {
    expect(only(isExclusiveMessageType)).toEqual([
      'CreateCollection',
      'DropCollection',
      'CreatePartition',
      'DropPartition',
      'ManualFlush',
      'SchemaChange',
    ]);
  });

  it('allows only Insert, Delete and Data inside transactions', () => {
    expect(only(isTxnBodyMessageType)).toEqual(['Insert', 'Delete', 'Data']);
  });
});
