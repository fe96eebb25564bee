import fc from 'fast-check';

import {
  BLOCK_HEADER_BYTES,
  checkRecords,
  bytesRecords,
  encodeBlock,
  encodeFence,
  FENCE_BYTES,
  isFence,
  isHeader,
  readBlockHeader,
  recordsOf,
} from './block-codec.js';
import type { BlockPosition } from './block-codec.js';

const encode = (at: BlockPosition, entries: Uint8Array[]): Buffer => encodeBlock(at, entries, bytesRecords);

/** Whether `bytes` parse as one complete, valid block. */
function validBlock(bytes: Buffer): boolean {
  const h = readBlockHeader(bytes);
  if (!isHeader(h)) return false;
  const payload = bytes.subarray(BLOCK_HEADER_BYTES, BLOCK_HEADER_BYTES + h.payloadLength);
  return payload.byteLength === h.payloadLength && checkRecords(payload, h) === undefined;
}

describe('block codec', () => {
  it('round-trips any entries and ids through encode, header parse, record check and record read', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 20 }),
        fc.nat({ max: 2 ** 40 }),
        fc.nat({ max: 2 ** 31 }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER - 1000 }),
        (items, segmentId, blockNo, firstEntryId) => {
          const block = encode({ segmentId, blockNo, firstEntryId }, items);
          const h = readBlockHeader(block);
          if (!isHeader(h)) throw new Error(h.why);
          expect(h).toEqual({
            segmentId,
            blockNo,
            firstEntryId,
            entryCount: items.length,
            payloadLength: block.byteLength - BLOCK_HEADER_BYTES,
          });
          const payload = block.subarray(BLOCK_HEADER_BYTES);
          expect(checkRecords(payload, h)).toBeUndefined();
          expect([...recordsOf(payload, h)].map((r) => Buffer.from(r))).toEqual(items.map((i) => Buffer.from(i)));
          expect([...recordsOf(payload, h, items.length - 1)]).toHaveLength(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never accepts a torn block: a write cut at any byte boundary, followed by zeros or by nothing', () => {
    const block = encode({ segmentId: 3, blockNo: 7, firstEntryId: 100 }, [
      Buffer.from('a'.repeat(50)),
      Buffer.from('bc'),
      Buffer.from('d'.repeat(17)),
    ]);
    for (let cut = 0; cut < block.byteLength; cut++) {
      const torn = block.subarray(0, cut);
      expect(validBlock(torn)).toBe(false);
      const preallocated = Buffer.concat([torn, Buffer.alloc(block.byteLength - cut)]);
      expect(validBlock(preallocated)).toBe(false);
    }
    expect(validBlock(block)).toBe(true);
  });

  it('detects every single flipped byte', () => {
    const block = encode({ segmentId: 1, blockNo: 2, firstEntryId: 3 }, [
      Buffer.from('hello'),
      Buffer.from('world!'.repeat(5)),
    ]);
    for (let i = 0; i < block.byteLength; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Buffer.from(block);
        bad[i] = bad[i]! ^ mask;
        expect(validBlock(bad)).toBe(false);
      }
    }
  });

  it('tells never-written bytes (empty) from damaged ones (invalid)', () => {
    expect(readBlockHeader(Buffer.alloc(0))).toMatchObject({ kind: 'empty' });
    expect(readBlockHeader(Buffer.alloc(BLOCK_HEADER_BYTES))).toMatchObject({ kind: 'empty' });
    expect(readBlockHeader(Buffer.alloc(10))).toMatchObject({ kind: 'empty' });
    expect(readBlockHeader(Buffer.from('WPB1 garbage'))).toMatchObject({ kind: 'invalid' });
    const block = encode({ segmentId: 0, blockNo: 0, firstEntryId: 0 }, [Buffer.from('x')]);
    expect(readBlockHeader(block.subarray(0, 20))).toMatchObject({ kind: 'invalid' });
  });

  it('refuses to encode an empty block', () => {
    expect(() => encode({ segmentId: 0, blockNo: 0, firstEntryId: 0 }, [])).toThrow(RangeError);
  });

  it('recognises fence objects by size, magic and CRC, and never a block as one', () => {
    const fence = encodeFence(42n);
    expect(fence.byteLength).toBe(FENCE_BYTES);
    expect(isFence(fence)).toBe(true);
    const bad = Buffer.from(fence);
    bad[10] = bad[10]! ^ 1;
    expect(isFence(bad)).toBe(false);
    expect(isFence(encode({ segmentId: 0, blockNo: 0, firstEntryId: 0 }, [Buffer.from('x')]))).toBe(false);
    expect(isHeader(readBlockHeader(fence))).toBe(false);
  });
});
