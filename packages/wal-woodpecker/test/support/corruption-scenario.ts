import { open, readFile, stat, truncate } from 'node:fs/promises';

import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { BLOCK_HEADER_BYTES, isHeader, readBlockHeader } from '../../src/block-codec.js';
import { woodpeckerWal } from '../../src/index.js';
import type { Medium, Storage } from './fixtures.js';
import { appendSequential, keyOf, readLog } from './log-helpers.js';

const ENTRIES = 10;
const BAD_BLOCK = 4;

/** Where each block of a local segment file starts (and the offset after the last one). */
async function blockOffsets(file: string): Promise<number[]> {
  const bytes = await readFile(file);
  const offsets: number[] = [];
  for (let at = 0; ;) {
    const h = readBlockHeader(bytes, at);
    if (!isHeader(h)) return [...offsets, at];
    offsets.push(at);
    at += BLOCK_HEADER_BYTES + h.payloadLength;
  }
}

async function flipByte(file: string, offset: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const one = Buffer.alloc(1);
    await fh.read(one, 0, 1, offset);
    one[0] = one[0]! ^ 0x5a;
    await fh.write(one, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

/** One segment of ENTRIES blocks (one entry each), completed; returns its pchannel and keys. */
async function completedSegment(s: Storage, pchannel: string): Promise<string[]> {
  const opener = await woodpeckerWal.createOpener(s.config(), s.deps());
  try {
    const wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
    return await appendSequential(wal, pchannel, 'k', ENTRIES);
  } finally {
    await opener.close();
  }
}

/** Reads the whole log through a fresh read-only opener until the last key or an error. */
async function readAll(s: Storage, pchannel: string): Promise<{ keys: string[]; error: unknown }> {
  const opener = await woodpeckerWal.createOpener(s.config(), s.deps());
  try {
    const wal = await opener.open({ pchannel, term: 1n, mode: 'ro' });
    const { messages, error } = await readLog(wal, { kind: 'all' }, (m) => keyOf(m) === `k/${ENTRIES - 1}`, 5_000);
    return { keys: messages.map(keyOf), error };
  } finally {
    await opener.close();
  }
}

function expectCorrupt(error: unknown, pchannel: string, block: number): void {
  expect(WalError.is(error, WalErrorCode.CORRUPT)).toBe(true);
  expect((error as Error).message).toContain(`pchannel "${pchannel}" segment 0 block ${block}`);
}

type Damage = (s: Storage, pchannel: string) => Promise<void>;

function localFile(s: Storage, pchannel: string, segment = 0): string {
  return `${s.dir}/wal/${pchannel}/${segment}.log`;
}

function objectKey(pchannel: string, block: number): string {
  return `wp/${pchannel}/0/${block}.blk`;
}

const LOCAL_DAMAGE: Record<string, Damage> = {
  'a flipped payload byte': async (s, p) =>
    flipByte(localFile(s, p), (await blockOffsets(localFile(s, p)))[BAD_BLOCK]! + BLOCK_HEADER_BYTES + 20),
  'a flipped header byte': async (s, p) =>
    flipByte(localFile(s, p), (await blockOffsets(localFile(s, p)))[BAD_BLOCK]! + 9),
  'a file truncated inside the block': async (s, p) =>
    truncate(localFile(s, p), (await blockOffsets(localFile(s, p)))[BAD_BLOCK]! + 50),
};

const OBJECT_DAMAGE: Record<string, Damage> = {
  'a flipped payload byte': async (s, p) => {
    const bytes = Buffer.from(await s.objectStore!.get(objectKey(p, BAD_BLOCK)));
    bytes[BLOCK_HEADER_BYTES + 20] = bytes[BLOCK_HEADER_BYTES + 20]! ^ 0x5a;
    await s.objectStore!.put(objectKey(p, BAD_BLOCK), bytes);
  },
  'a truncated object': async (s, p) => {
    const bytes = await s.objectStore!.get(objectKey(p, BAD_BLOCK));
    await s.objectStore!.put(objectKey(p, BAD_BLOCK), bytes.subarray(0, bytes.byteLength - 7));
  },
  'a missing object': async (s, p) => s.objectStore!.delete(objectKey(p, BAD_BLOCK)),
};

/**
 * Registers the corruption tests on `storage`: damage to a completed segment is a CORRUPT error naming
 * the pchannel, segment and block, after every entry before it was delivered — never silent loss. In
 * local mode also: a torn tail of an abandoned active segment is cut cleanly on recovery, and damage
 * before its tail fails the takeover with CORRUPT instead of cutting acknowledged entries.
 */
export function describeCorruption(medium: Medium, storage: () => Storage): void {
  const damages = medium === 'local' ? LOCAL_DAMAGE : OBJECT_DAMAGE;
  for (const [what, damage] of Object.entries(damages)) {
    it(`${medium}: ${what} in a completed segment is CORRUPT naming the block; the log reads up to it`, async () => {
      const s = storage();
      const pchannel = `bad${Math.random().toString(36).slice(2, 8)}-dml_0`;
      const keys = await completedSegment(s, pchannel);
      await damage(s, pchannel);
      const { keys: read, error } = await readAll(s, pchannel);
      expectCorrupt(error, pchannel, BAD_BLOCK);
      expect(read).toEqual(keys.slice(0, BAD_BLOCK));
    });
  }
  if (medium !== 'local') return;

  it('local: a torn tail of an abandoned active segment is cut on recovery, keeping every acknowledged entry', async () => {
    const s = storage();
    const pchannel = `torn${Math.random().toString(36).slice(2, 8)}-dml_0`;
    const crashed = await woodpeckerWal.createOpener(s.config(), s.deps());
    const wal = await crashed.open({ pchannel, term: 1n, mode: 'rw' });
    const keys = await appendSequential(wal, pchannel, 'k', ENTRIES);
    // The writer "dies" here (never closed), in the middle of writing an 11th block: a torn header.
    const file = localFile(s, pchannel);
    const end = (await blockOffsets(file)).at(-1)!;
    const fh = await open(file, 'r+');
    await fh.write(Buffer.from('WPB1 torn block header...'), 0, 25, end);
    await fh.close();
    const opener = await woodpeckerWal.createOpener(s.config(), s.deps());
    try {
      const next = await opener.open({ pchannel, term: 2n, mode: 'rw' });
      expect((await stat(file)).size).toBe(end);
      await next.append((await import('./log-helpers.js')).keyed(pchannel, 'after'));
      const { messages, error } = await readLog(next, { kind: 'all' }, (m) => keyOf(m) === 'after');
      expect(error).toBeUndefined();
      expect(messages.map(keyOf)).toEqual([...keys, 'after']);
    } finally {
      await opener.close();
      await crashed.close();
    }
  });

  it('local: damage before the tail of an abandoned active segment fails the takeover with CORRUPT naming the block', async () => {
    const s = storage();
    const pchannel = `rot${Math.random().toString(36).slice(2, 8)}-dml_0`;
    const crashed = await woodpeckerWal.createOpener(s.config(), s.deps());
    const wal = await crashed.open({ pchannel, term: 1n, mode: 'rw' });
    await appendSequential(wal, pchannel, 'k', ENTRIES);
    const file = localFile(s, pchannel);
    await flipByte(file, (await blockOffsets(file))[BAD_BLOCK]! + BLOCK_HEADER_BYTES + 20);
    const opener = await woodpeckerWal.createOpener(s.config(), s.deps());
    try {
      const e = await opener.open({ pchannel, term: 2n, mode: 'rw' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expectCorrupt(e, pchannel, BAD_BLOCK);
      expect((e as Error).message).toContain('not a torn tail');
    } finally {
      await opener.close();
      await crashed.close();
    }
  });
}
