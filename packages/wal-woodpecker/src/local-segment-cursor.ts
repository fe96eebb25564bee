import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

import { asWalError } from './errors.js';
import { LocalBlockFile } from './local-block-file.js';
import type { FileBlock } from './local-block-file.js';
import type { NoBlock, ReadBlock, SegmentCursor } from './segment-store.js';

/**
 * Reads one local segment file block by block, in read-ahead chunks. The file is opened lazily: a
 * reader may reach a segment before its writer created the file (then there is simply no block yet).
 */
export class LocalSegmentCursor implements SegmentCursor {
  readonly #path: string;
  readonly #pchannel: string;
  readonly #segmentId: number;
  readonly #chunkBytes: number;
  #fh: FileHandle | undefined;
  #file: LocalBlockFile | undefined;
  #offset = 0;
  #blockNo = 0;
  #nextEntry = 0;
  // A block found by seek(), handed out by the next read().
  #pending: FileBlock | undefined;
  #closed = false;

  readonly #fencePath: string;

  constructor(path: string, fencePath: string, pchannel: string, segmentId: number, chunkBytes: number) {
    this.#path = path;
    this.#fencePath = fencePath;
    this.#pchannel = pchannel;
    this.#segmentId = segmentId;
    this.#chunkBytes = chunkBytes;
  }

  get nextBlockNo(): number {
    return this.#blockNo;
  }

  get nextEntryId(): number {
    return this.#nextEntry;
  }

  async read(): Promise<ReadBlock | NoBlock> {
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#pending = undefined;
      this.#advance(pending);
      return { kind: 'block', header: pending.header, payload: pending.payload };
    }
    const found = await this.#readHere();
    if (found.kind !== 'block') return found;
    this.#advance(found);
    return { kind: 'block', header: found.header, payload: found.payload };
  }

  async probe(): Promise<boolean> {
    if (this.#pending !== undefined) return true;
    const file = await this.#openFile();
    if (file === undefined) return false;
    try {
      return await file.somethingAt(this.#offset);
    } catch (e) {
      throw asWalError(e, this.#where('poll'));
    }
  }

  async fenced(): Promise<boolean> {
    return existsSync(this.#fencePath);
  }

  async seek(entryId: number): Promise<void> {
    // Bounded by the file: each round moves past one block (segments have no index; a local file is
    // read in large chunks, so hopping over headers is cheap).
    while (this.#pending === undefined) {
      const found = await this.#readHere();
      if (found.kind !== 'block') return;
      if (found.header.firstEntryId + found.header.entryCount > entryId) {
        this.#pending = found;
        return;
      }
      this.#advance(found);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const fh = this.#fh;
    this.#fh = undefined;
    this.#file = undefined;
    await fh?.close().catch(() => {});
  }

  async #readHere(): Promise<FileBlock | NoBlock> {
    const location = `file ${this.#path} offset ${this.#offset}`;
    const file = await this.#openFile();
    if (file === undefined)
      return { kind: 'none', why: 'the segment file does not exist', blockNo: this.#blockNo, location };
    let found;
    try {
      found = await file.blockAt(this.#offset, {
        segmentId: this.#segmentId,
        blockNo: this.#blockNo,
        firstEntryId: this.#nextEntry,
      });
    } catch (e) {
      throw asWalError(e, this.#where('read'));
    }
    if (found.kind === 'block') return found;
    return { kind: found.kind, why: found.why, blockNo: this.#blockNo, location };
  }

  #advance(block: FileBlock): void {
    this.#offset = block.nextOffset;
    this.#blockNo++;
    this.#nextEntry = block.header.firstEntryId + block.header.entryCount;
  }

  async #openFile(): Promise<LocalBlockFile | undefined> {
    if (this.#file !== undefined) return this.#file;
    if (this.#closed) return undefined;
    try {
      this.#fh = await open(this.#path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw asWalError(e, this.#where('open'));
    }
    if (this.#closed) {
      await this.#fh.close().catch(() => {});
      this.#fh = undefined;
      return undefined;
    }
    this.#file = new LocalBlockFile(this.#fh, this.#chunkBytes);
    return this.#file;
  }

  #where(op: string): string {
    return `pchannel "${this.#pchannel}": ${op} of segment ${this.#segmentId} (${this.#path})`;
  }
}
