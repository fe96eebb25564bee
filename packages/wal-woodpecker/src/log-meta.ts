import type { CallOptions, Clock } from '@streamsvc/common';
import type { Compare, KeyValue, MetaKv } from '@streamsvc/metastore';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { asWalError, fencedError } from './errors.js';

/** Lifecycle of a segment: written by one writer, then finished for good, then deleted by truncation. */
export type SegmentState = 'active' | 'completed' | 'truncated';

/** The metadata of one segment, as stored, with the revision its next CAS compares against. */
export interface SegmentMeta {
  readonly segmentId: number;
  readonly state: SegmentState;
  /** The last entry of a completed segment; -1 when empty. Meaningless while active. */
  readonly lastEntryId: number;
  readonly blocks: number;
  readonly bytes: number;
  /** The term of the writer that created it. */
  readonly term: string;
  readonly createdMs: number;
  readonly completedMs: number | undefined;
  readonly modRevision: bigint;
}

/** What a read-write open recorded: the term, and the log key's revision that proves nobody claimed since. */
export interface LogClaim {
  readonly term: bigint;
  readonly revision: bigint;
}

/** Where a segment ends: its last entry (-1 when empty), block count and bytes. */
export interface SegmentEnd {
  readonly lastEntryId: number;
  readonly blocks: number;
  readonly bytes: number;
}

const SEGMENT_DIGITS = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One log's metadata in the MetaKv — the second fence (the first is in the medium):
 *
 * - `<metaPrefix>/logs/<pchannel>`: `{ writerTerm }`. Every read-write open CAS-writes it, so its
 *   modRevision identifies the current owner; the owner's segment creations, completions and
 *   truncations all compare it, so a stale writer's metadata change fails.
 * - `<metaPrefix>/logs/<pchannel>/segments/<id, zero-padded>`: the {@link SegmentMeta}; created only if
 *   absent, changed only by CAS on its modRevision.
 */
export class LogMeta {
  readonly pchannel: string;
  readonly #kv: MetaKv;
  readonly #clock: Clock;
  readonly #logKey: string;
  readonly #segmentsPrefix: string;

  constructor(kv: MetaKv, metaPrefix: string, pchannel: string, clock: Clock) {
    this.#kv = kv;
    this.#clock = clock;
    this.pchannel = pchannel;
    this.#logKey = `${metaPrefix}/logs/${pchannel}`;
    this.#segmentsPrefix = `${this.#logKey}/segments/`;
  }

  /**
   * Records `term` as the log's writer term: the open of a new owner.
   * @throws {WalError} FENCED when a newer term is recorded; UNAVAILABLE.
   */
  async claim(term: bigint, call?: CallOptions): Promise<LogClaim> {
    // Bounded: each failed CAS means another open won in between; ten in a row is not a race but a storm.
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.#op('read the log', () => this.#kv.get(this.#logKey, call));
      const recorded = current === undefined ? 0n : readTerm(current);
      if (recorded > term) {
        throw fencedError(this.pchannel, term, `the log is owned by term ${recorded}; an older writer may not open it`);
      }
      const result = await this.#op('claim the log', () =>
        this.#kv.txn(
          {
            compare: [{ key: this.#logKey, target: 'modRevision', op: '==', value: current?.modRevision ?? 0n }],
            success: [{ type: 'put', key: this.#logKey, value: json({ v: 1, writerTerm: String(term) }) }],
          },
          call,
        ),
      );
      if (result.succeeded) return { term, revision: result.revision };
    }
    throw new WalError(WalErrorCode.UNAVAILABLE, `pchannel "${this.pchannel}": the log claim lost 10 races in a row`);
  }

  /** The recorded writer term and the log key's revision; undefined for a log never opened for write. */
  async owner(call?: CallOptions): Promise<LogClaim | undefined> {
    const kv = await this.#op('read the log', () => this.#kv.get(this.#logKey, call));
    return kv === undefined ? undefined : { term: readTerm(kv), revision: kv.modRevision };
  }

  /** Every segment's metadata, by id. */
  async segments(call?: CallOptions): Promise<SegmentMeta[]> {
    const out: SegmentMeta[] = [];
    let startAfter: string | undefined;
    // Bounded by the number of segments: every page advances startAfter past its keys.
    for (;;) {
      const page = await this.#op('list segments', () =>
        this.#kv.list(this.#segmentsPrefix, { limit: 1000, startAfter, signal: call?.signal }),
      );
      for (const kv of page.kvs) out.push(this.#parseSegment(kv));
      if (!page.more || page.kvs.length === 0) return out;
      startAfter = page.kvs[page.kvs.length - 1]!.key;
    }
  }

  /** One segment's metadata, or undefined when it does not exist (never created, or deleted). */
  async segment(segmentId: number, call?: CallOptions): Promise<SegmentMeta | undefined> {
    const kv = await this.#op(`read segment ${segmentId}`, () => this.#kv.get(this.#segmentKey(segmentId), call));
    return kv === undefined ? undefined : this.#parseSegment(kv);
  }

  /**
   * Creates segment `segmentId` as active, if absent and only while `claim` is the log's current one.
   * @throws {WalError} FENCED when another open claimed the log or the segment exists; UNAVAILABLE.
   */
  async createSegment(segmentId: number, claim: LogClaim, call?: CallOptions): Promise<SegmentMeta> {
    const key = this.#segmentKey(segmentId);
    const createdMs = this.#clock.nowMs();
    const value = {
      v: 1,
      segmentId,
      state: 'active',
      lastEntryId: -1,
      blocks: 0,
      bytes: 0,
      term: String(claim.term),
      createdMs,
    };
    const result = await this.#op(`create segment ${segmentId}`, () =>
      this.#kv.txn(
        {
          compare: [this.#ownerCompare(claim), { key, target: 'version', op: '==', value: 0n }],
          success: [{ type: 'put', key, value: json(value) }],
        },
        call,
      ),
    );
    if (!result.succeeded) {
      // A retry after a lost response finds its own creation: still the owner, the segment active and
      // of this term. Only the owner creates segments, so that is ours.
      await this.checkOwner(claim, call);
      const existing = await this.segment(segmentId, call);
      if (existing?.state === 'active' && existing.term === String(claim.term) && existing.blocks === 0)
        return existing;
      throw fencedError(this.pchannel, claim.term, `segment ${segmentId} exists already: another writer created it`);
    }
    return { ...value, state: 'active', completedMs: undefined, modRevision: result.revision };
  }

  /**
   * Marks `segment` completed at `end` by CAS. With `claim`, only while that claim is current.
   * @returns the new metadata, or undefined when the CAS lost (someone else changed the segment or
   *   claimed the log).
   * @throws {WalError} UNAVAILABLE.
   */
  async completeSegment(
    segment: SegmentMeta,
    end: SegmentEnd,
    claim: LogClaim,
    call?: CallOptions,
  ): Promise<SegmentMeta | undefined> {
    const completedMs = this.#clock.nowMs();
    const next: SegmentMeta = { ...segment, ...end, state: 'completed', completedMs };
    const done = await this.#casSegment(segment, next, claim, call);
    if (done !== undefined) return done;
    // A retry after a lost response finds the segment completed exactly so by this same owner.
    const owner = await this.owner(call);
    if (owner?.revision !== claim.revision) return undefined;
    const now = await this.segment(segment.segmentId, call);
    return now?.state === 'completed' && now.lastEntryId === end.lastEntryId ? now : undefined;
  }

  /** Marks `segment` truncated by CAS under `claim`; undefined when the CAS lost. */
  async markTruncated(segment: SegmentMeta, claim: LogClaim, call?: CallOptions): Promise<SegmentMeta | undefined> {
    return this.#casSegment(segment, { ...segment, state: 'truncated' }, claim, call);
  }

  /** Deletes a truncated segment's key (after its data), by CAS on its revision. */
  async deleteSegment(segment: SegmentMeta, call?: CallOptions): Promise<void> {
    const key = this.#segmentKey(segment.segmentId);
    await this.#op(`delete segment ${segment.segmentId}`, () =>
      this.#kv.txn(
        {
          compare: [{ key, target: 'modRevision', op: '==', value: segment.modRevision }],
          success: [{ type: 'delete', key }],
        },
        call,
      ),
    );
  }

  /** Throws FENCED unless `claim` is still the log's current one. */
  async checkOwner(claim: LogClaim, call?: CallOptions): Promise<void> {
    const owner = await this.owner(call);
    if (owner === undefined || owner.revision !== claim.revision) {
      throw fencedError(this.pchannel, claim.term, `a newer writer (term ${owner?.term ?? '?'}) took the log over`);
    }
  }

  async #casSegment(
    segment: SegmentMeta,
    next: SegmentMeta,
    claim: LogClaim,
    call: CallOptions | undefined,
  ): Promise<SegmentMeta | undefined> {
    const key = this.#segmentKey(segment.segmentId);
    const { modRevision: _, ...stored } = next;
    const compare: Compare[] = [
      this.#ownerCompare(claim),
      { key, target: 'modRevision', op: '==', value: segment.modRevision },
    ];
    const result = await this.#op(`update segment ${segment.segmentId}`, () =>
      this.#kv.txn({ compare, success: [{ type: 'put', key, value: json({ v: 1, ...stored }) }] }, call),
    );
    return result.succeeded ? { ...next, modRevision: result.revision } : undefined;
  }

  #ownerCompare(claim: LogClaim): Compare {
    return { key: this.#logKey, target: 'modRevision', op: '==', value: claim.revision };
  }

  #segmentKey(segmentId: number): string {
    return `${this.#segmentsPrefix}${String(segmentId).padStart(SEGMENT_DIGITS, '0')}`;
  }

  #parseSegment(kv: KeyValue): SegmentMeta {
    try {
      const v = JSON.parse(decoder.decode(kv.value)) as Record<string, unknown>;
      const state = v['state'];
      if (state !== 'active' && state !== 'completed' && state !== 'truncated')
        throw new Error(`state ${String(state)}`);
      return {
        segmentId: num(v['segmentId']),
        state,
        lastEntryId: num(v['lastEntryId']),
        blocks: num(v['blocks']),
        bytes: num(v['bytes']),
        term: String(v['term']),
        createdMs: num(v['createdMs']),
        completedMs: v['completedMs'] === undefined ? undefined : num(v['completedMs']),
        modRevision: kv.modRevision,
      };
    } catch (cause) {
      throw new WalError(
        WalErrorCode.CORRUPT,
        `pchannel "${this.pchannel}": segment metadata ${kv.key} is unreadable`,
        {
          cause,
        },
      );
    }
  }

  async #op<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      throw asWalError(e, `pchannel "${this.pchannel}": ${what} in the MetaKv`);
    }
  }
}

function readTerm(kv: KeyValue): bigint {
  try {
    const v = JSON.parse(decoder.decode(kv.value)) as { writerTerm?: unknown };
    return BigInt(String(v.writerTerm));
  } catch (cause) {
    throw new WalError(WalErrorCode.CORRUPT, `log metadata ${kv.key} is unreadable`, { cause });
  }
}

function num(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new Error(`not an integer: ${String(value)}`);
  return value;
}

function json(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
