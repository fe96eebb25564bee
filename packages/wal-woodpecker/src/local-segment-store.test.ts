import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { ManualClock } from '@streamsvc/common';
import { WalErrorCode } from '@streamsvc/wal-core';

import { bytesRecords, encodeBlock } from './block-codec.js';
import { LocalSegmentStore } from './local-segment-store.js';

const PCHANNEL = 'local-sink-dml_0';

let dir: string;
let store: LocalSegmentStore;
let segmentId = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wp-local-sink-'));
  store = new LocalSegmentStore({
    rootDir: dir,
    preallocateBytes: 0,
    readAheadBytes: 64 * 1024,
    clock: new ManualClock(),
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const block = (blockNo: number, firstEntryId: number, text: string): Buffer =>
  encodeBlock({ segmentId, blockNo, firstEntryId }, [Buffer.from(text)], bytesRecords);

/** A sink of a fresh segment that already wrote block 0, and what the file holds after it. */
async function sinkAfterOneBlock() {
  segmentId++;
  const sink = await store.openSink(PCHANNEL, segmentId, 1n);
  const first = block(0, 0, 'first');
  expect(await sink.writeBlock(0, first, false)).toBe('durable');
  const paths = store.paths(PCHANNEL, segmentId);
  const fence = (): Promise<void> => writeFile(paths.fence, '{"term":"2"}');
  return { sink, first, fence, data: () => readFile(paths.data) };
}

describe('local segment sink fencing', () => {
  it('fails the next block with FENCED, unwritten, once a fence appeared while the writer was idle', async () => {
    const { sink, first, fence, data } = await sinkAfterOneBlock();
    await fence();
    await expect(sink.writeBlock(1, block(1, 1, 'second'), false)).rejects.toMatchObject({
      code: WalErrorCode.FENCED,
    });
    expect(await data()).toEqual(first);
    await sink.close();
  });

  it('reports a block chained to the previous clean check as fenced after its write when the fence came in between', async () => {
    // The race a check before the write always had: the fence appears after the check that covers
    // the block; the check after the write sees it, and the writer settles the block by the
    // segment end the new writer records.
    const { sink, first, fence, data } = await sinkAfterOneBlock();
    await fence();
    const second = block(1, 1, 'second');
    expect(await sink.writeBlock(1, second, true)).toBe('fenced-after-write');
    expect(await data()).toEqual(Buffer.concat([first, second]));
    await sink.close();
  });
});
