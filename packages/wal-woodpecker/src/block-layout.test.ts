import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';

import { PropertyKey } from '@streamsvc/message';
import type { MessageEnvelope } from '@streamsvc/message';

import { BLOCK_HEADER_BYTES, BLOCK_MAGIC, encodeBlock, FORMAT_VERSION } from './block-codec.js';
import type { RecordSource } from './block-codec.js';
import { encodeEntry, entryBytes, writeEntry } from './entry-codec.js';

/**
 * The format written the plain way, as the first encoder did it: each entry into a buffer of its own
 * (UTF-8 strings, one after the other), its CRC over that buffer, then the records copied into the
 * block. The writer now writes entries straight into the block; its bytes must be these.
 */
function referenceEntry(message: MessageEnvelope): Buffer {
  const table = Buffer.alloc(3 + 6 * message.properties.size);
  table.writeUInt8(1, 0);
  table.writeUInt16LE(message.properties.size, 1);
  const texts: Buffer[] = [];
  let at = 3;
  for (const [key, value] of message.properties) {
    const k = Buffer.from(key, 'utf8');
    const v = Buffer.from(value, 'utf8');
    table.writeUInt16LE(k.byteLength, at);
    table.writeUInt32LE(v.byteLength, at + 2);
    at += 6;
    texts.push(k, v);
  }
  return Buffer.concat([table, ...texts, message.payload]);
}

function referenceBlock(
  at: { segmentId: number; blockNo: number; firstEntryId: number },
  entries: readonly Buffer[],
): Buffer {
  const records = entries.map((e) => {
    const prefix = Buffer.alloc(8);
    prefix.writeUInt32LE(e.byteLength, 0);
    prefix.writeUInt32LE(crc32c(e) >>> 0, 4);
    return Buffer.concat([prefix, e]);
  });
  const payload = Buffer.concat(records);
  const header = Buffer.alloc(BLOCK_HEADER_BYTES);
  header.writeUInt32LE(BLOCK_MAGIC, 0);
  header.writeUInt16LE(FORMAT_VERSION, 4);
  header.writeBigUInt64LE(BigInt(at.segmentId), 8);
  header.writeUInt32LE(at.blockNo, 16);
  header.writeBigUInt64LE(BigInt(at.firstEntryId), 20);
  header.writeUInt32LE(entries.length, 28);
  header.writeUInt32LE(payload.byteLength, 32);
  header.writeUInt32LE(crc32c(header.subarray(0, 36)) >>> 0, 36);
  return Buffer.concat([header, payload]);
}

const messageRecords: RecordSource<MessageEnvelope> = {
  entryBytes: (message) => entryBytes(message, 'layout-dml_0'),
  writeEntry,
};

// Short and long (past the byte-loop cut-off), ASCII and not: astral characters, lone surrogates.
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const text = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.string({ minLength: 60, maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: fc.oneof(fc.constantFrom('a', 'é', '\u{1f600}'), loneSurrogate), maxLength: 70 }),
);

const envelope: fc.Arbitrary<MessageEnvelope> = fc
  .record({
    payload: fc.uint8Array({ maxLength: 1500 }),
    extra: fc.array(fc.tuple(text, text), { maxLength: 6 }),
    tt: fc.bigInt({ min: 1n, max: (1n << 62n) - 1n }),
  })
  .map(({ payload, extra, tt }) => {
    const properties = new Map<string, string>([
      [PropertyKey.TimeTick, tt.toString(36)],
      [PropertyKey.LastConfirmedSelf, ''],
    ]);
    for (const [key, value] of extra) properties.set(key, value);
    return { payload, properties };
  });

describe('block layout', () => {
  it('writes entries into a block byte for byte as the plain per-entry encoding did, into new or reused buffers', () => {
    fc.assert(
      fc.property(
        fc.array(envelope, { minLength: 1, maxLength: 8 }),
        fc.nat({ max: 2 ** 40 }),
        fc.nat({ max: 2 ** 31 }),
        fc.nat({ max: 2 ** 50 }),
        (messages, segmentId, blockNo, firstEntryId) => {
          const at = { segmentId, blockNo, firstEntryId };
          const expected = referenceBlock(at, messages.map(referenceEntry));
          expect(encodeBlock(at, messages, messageRecords)).toEqual(expected);
          const dirty = Buffer.alloc(expected.byteLength + 100, 0xa5);
          expect(encodeBlock(at, messages, messageRecords, dirty)).toEqual(expected);
          for (const m of messages) expect(encodeEntry(m, 'p')).toEqual(referenceEntry(m));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses to write an entry that is not as long as it measured (changed after it was accepted)', () => {
    const message = {
      payload: new Uint8Array(3),
      properties: new Map([
        [PropertyKey.TimeTick, '1'],
        [PropertyKey.LastConfirmedSelf, ''],
      ]),
    };
    const lying: RecordSource<MessageEnvelope> = { entryBytes: (m) => entryBytes(m, 'p') + 2, writeEntry };
    expect(() => encodeBlock({ segmentId: 0, blockNo: 0, firstEntryId: 0 }, [message], lying)).toThrow(/measured at/);
  });
});
