import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { ManualClock, noopLogger } from '@streamsvc/common';
import { MessageBuilder, vchannelName } from '@streamsvc/message';
import type { MessageId } from '@streamsvc/message';
import { EmbeddedMetaKv } from '@streamsvc/metastore';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { isHeader, readBlockHeader } from './block-codec.js';
import { resolveSettings, woodpeckerWalConfigSchema } from './config.js';
import type { WoodpeckerWalConfigInput } from './config.js';
import { fencedError } from './errors.js';
import { LogMeta } from './log-meta.js';
import type { SegmentEnd } from './log-meta.js';
import type { LogWriter } from './log-writer.js';
import type { LogContext } from './open-writer.js';
import { openLogWriter } from './open-writer.js';
import type { BlockSink, BlockWriteOutcome, SegmentCursor, SegmentStore } from './segment-store.js';
import { LogTail } from './tail-hub.js';

const PCHANNEL = 'writer-dml_0';

interface PendingWrite {
  readonly blockNo: number;
  readonly block: Buffer;
  complete(outcome?: BlockWriteOutcome): void;
  fail(error: unknown): void;
}

/** A medium in memory: writes complete at once (`auto`) or when the test says so. */
class FakeSink implements BlockSink {
  readonly describe = 'fake';
  readonly releasesBlocks = false; // it keeps what was written
  readonly pending: PendingWrite[] = [];
  readonly written = new Map<number, Buffer>();
  /** The `chained` flag of every write, in order. */
  readonly chained: boolean[] = [];
  finished: SegmentEnd | undefined;
  closed = false;
  /** What `repair` answers: by default exactly what was acknowledged. */
  repairTo: ((acked: SegmentEnd) => SegmentEnd) | undefined;

  constructor(
    readonly segmentId: number,
    readonly auto: boolean,
  ) {}

  writeBlock(blockNo: number, block: Buffer, chained: boolean): Promise<BlockWriteOutcome> {
    this.chained.push(chained);
    return new Promise((resolve, reject) => {
      const write: PendingWrite = {
        blockNo,
        block,
        complete: (outcome = 'durable') => {
          this.written.set(blockNo, block);
          resolve(outcome);
        },
        fail: reject,
      };
      if (this.auto) write.complete();
      else this.pending.push(write);
    });
  }

  async finish(end: SegmentEnd): Promise<void> {
    this.finished = end;
  }

  async repair(acked: SegmentEnd): Promise<SegmentEnd> {
    return this.repairTo?.(acked) ?? acked;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class FakeStore implements SegmentStore {
  readonly mode = 'object';
  readonly sinks: FakeSink[] = [];
  constructor(readonly auto: boolean) {}

  async openSink(_pchannel: string, segmentId: number): Promise<BlockSink> {
    const sink = new FakeSink(segmentId, this.auto);
    this.sinks.push(sink);
    return sink;
  }
  async fenceAndRecover(): Promise<SegmentEnd> {
    return { lastEntryId: -1, blocks: 0, bytes: 0 };
  }
  async deleteSegment(): Promise<void> {}
  openCursor(): SegmentCursor {
    throw new Error('not used');
  }
}

let dir: string;
let metaKv: EmbeddedMetaKv;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wp-writer-'));
  metaKv = await EmbeddedMetaKv.open({ path: dir });
});

afterAll(async () => {
  await metaKv.close();
  await rm(dir, { recursive: true, force: true });
});

let channel = 0;

async function setup(config: Partial<WoodpeckerWalConfigInput>, auto = true) {
  const clock = new ManualClock();
  const store = new FakeStore(auto);
  const pchannel = `${PCHANNEL}${channel++}`;
  const ctx: LogContext = {
    pchannel,
    meta: new LogMeta(metaKv, 'wp', pchannel, clock),
    store,
    settings: resolveSettings(woodpeckerWalConfigSchema.parse({ mode: 'object', ...config })),
    tail: new LogTail(),
    clock,
    logger: noopLogger,
  };
  const writer = await openLogWriter(ctx, 1n);
  return { ctx, clock, store, writer, sink: (i: number) => store.sinks[i] as FakeSink };
}

let tt = 1n;
const message = (bytes = 100) =>
  MessageBuilder.data(Buffer.alloc(bytes, 7))
    .vchannel(vchannelName(PCHANNEL, 1n, 0))
    .build()
    .withTimeTick(tt++)
    .withLastConfirmedSelf();

const ids = (list: MessageId[]): string[] => list.map((id) => id.toString());
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Lets the event loop run until `condition` holds (bounded: 5 s; the MetaKv commits to disk). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  expect(condition()).toBe(true);
}

/** Records the order in which appends settle. */
function track(writer: LogWriter, count: number, signal?: AbortSignal) {
  const settled: string[] = [];
  const results = Array.from({ length: count }, (_, i) =>
    writer.append(message(), signal).then(
      (id) => {
        settled.push(`${i}:${id.toString()}`);
        return id;
      },
      (e: unknown) => {
        settled.push(`${i}:${(e as WalError).code ?? String(e)}`);
        throw e;
      },
    ),
  );
  for (const r of results) r.catch(() => {});
  return { settled, results };
}

describe('LogWriter', () => {
  it('acknowledges strictly in block order although parallel uploads finish out of order', async () => {
    const { writer, sink } = await setup({ maxBlockEntries: 1, maxParallelUploads: 4 }, false);
    const { settled, results } = track(writer, 4);
    await tick();
    expect(sink(0).pending.map((w) => w.blockNo)).toEqual([0, 1, 2, 3]);
    for (const i of [3, 2, 1]) sink(0).pending[i]!.complete();
    await tick();
    expect(settled).toEqual([]);
    sink(0).pending[0]!.complete();
    expect(ids(await Promise.all(results))).toEqual(['v1:0:0', 'v1:0:1', 'v1:0:2', 'v1:0:3']);
    expect(settled.map((s) => s.split(':')[0])).toEqual(['0', '1', '2', '3']);
  });

  it('marks a block chained only when it is cut in the event-loop turn that settled the previous one durable', async () => {
    const { writer, sink } = await setup({ maxBlockEntries: 1, maxParallelUploads: 1 }, false);
    const { results } = track(writer, 2);
    await tick();
    expect(sink(0).chained).toEqual([false]);
    sink(0).pending[0]!.complete();
    await tick();
    expect(sink(0).chained).toEqual([false, true]);
    // An append that an acknowledgement lets in is cut at the end of the event-loop iteration (with
    // whatever else arrived in it), after the turn ended: it is checked afresh.
    const next = results[1]!.then(() => writer.append(message(), undefined));
    sink(0).pending[1]!.complete();
    await tick();
    await tick(); // the cut's own setImmediate was queued after this test's first
    expect(sink(0).chained).toEqual([false, true, false]);
    sink(0).pending[2]!.complete();
    await next;
    await tick();
    const later = writer.append(message(), undefined);
    await tick();
    expect(sink(0).chained).toEqual([false, true, false, false]); // a later turn checks afresh
    sink(0).pending[3]!.complete();
    await later;
  });

  it('fails, unwritten, the block of a message that changed between its append and its write', async () => {
    const { writer, sink, clock } = await setup({ maxParallelUploads: 1, maxBlockEntries: 2 }, false);
    const changed = message();
    const both = [writer.append(changed, undefined), writer.append(message(), undefined)];
    changed.withWalTerm(7n); // the writer was handed the message itself, not a snapshot
    for (const append of both) await expect(append).rejects.toMatchObject({ code: WalErrorCode.INVALID_ARGUMENT });
    expect(sink(0).pending).toHaveLength(0);
    expect(writer.inFlightBytes).toBe(0);
    const after = writer.append(message(), undefined);
    clock.advance(50);
    await tick();
    sink(0).pending[0]!.complete();
    expect((await after).toString()).toBe('v1:0:0');
  });

  it('batches what arrives within the flush interval into one block, uploaded when the interval ends', async () => {
    const { writer, sink, clock } = await setup({ flushIntervalMs: 50 }, true);
    const { results } = track(writer, 5);
    await tick();
    expect(sink(0).written.size).toBe(0);
    clock.advance(50);
    expect(ids(await Promise.all(results))).toEqual(['v1:0:0', 'v1:0:1', 'v1:0:2', 'v1:0:3', 'v1:0:4']);
    expect([...sink(0).written.keys()]).toEqual([0]);
    expect(clock.pendingSleeps).toBe(0); // idle again: no timer left behind
  });

  it('caps bytes in flight: past maxInFlightBytes an append waits, then fails UNAVAILABLE, and the memory is given back', async () => {
    const cap = 64 * 1024;
    const { writer, sink, clock } = await setup(
      { maxInFlightBytes: cap, maxInFlightWaitMs: 500, maxBlockEntries: 1, maxParallelUploads: 32 },
      false,
    );
    const first = Array.from({ length: 6 }, () => writer.append(message(10 * 1024), undefined)); // 6 × ~10.4 KiB fit
    await tick();
    expect(sink(0).pending).toHaveLength(6);
    const waiting = writer.append(message(10 * 1024), undefined);
    waiting.catch(() => {});
    await tick();
    expect(sink(0).pending).toHaveLength(6); // not taken in: no memory grows past the cap
    expect(writer.inFlightBytes).toBeLessThanOrEqual(cap);
    clock.advance(499);
    await tick();
    clock.advance(1);
    const e = await waiting.catch((x: unknown) => x);
    expect(WalError.is(e, WalErrorCode.UNAVAILABLE)).toBe(true);
    expect((e as WalError).retriable).toBe(true);
    for (const w of sink(0).pending) w.complete();
    await Promise.all(first);
    expect(writer.inFlightBytes).toBe(0);
    const after = writer.append(message(10 * 1024), undefined);
    await tick();
    sink(0).pending.at(-1)!.complete();
    expect((await after).toString()).toBe('v1:0:6');
  });

  it('rolls to a new segment once a segment holds segmentMaxBytes, completing the old one in the metadata', async () => {
    const { writer, ctx, store } = await setup({ maxBlockEntries: 1, segmentMaxBytes: 64 * 1024 }, true);
    const got: string[] = [];
    for (let i = 0; i < 120; i++) got.push((await writer.append(message(1000), undefined)).toString());
    const segments = await ctx.meta.segments();
    expect(segments.length).toBeGreaterThanOrEqual(2);
    expect(segments.slice(0, -1).every((s) => s.state === 'completed')).toBe(true);
    expect(segments.at(-1)!.state).toBe('active');
    const first = segments[0]!;
    expect(got.filter((id) => id.startsWith('v1:0:'))).toHaveLength(first.lastEntryId + 1);
    expect(got[first.lastEntryId + 1]).toBe('v1:1:0');
    expect(store.sinks[0]!.finished).toEqual({
      lastEntryId: first.lastEntryId,
      blocks: first.blocks,
      bytes: first.bytes,
    });
  });

  it('rolls a non-empty segment once it is segmentMaxAgeMs old', async () => {
    const { writer, clock } = await setup({ maxBlockEntries: 1, segmentMaxAgeMs: 1000 }, true);
    expect((await writer.append(message(), undefined)).toString()).toBe('v1:0:0');
    clock.advance(1000);
    expect((await writer.append(message(), undefined)).toString()).toBe('v1:1:0');
  });

  it('after a failed upload: poisons later blocks, repairs, fails the unwritten with UNAVAILABLE and continues in a new segment', async () => {
    const { writer, sink, ctx } = await setup({ maxBlockEntries: 1, maxParallelUploads: 3 }, false);
    const { settled, results } = track(writer, 3);
    await tick();
    const [b0, b1, b2] = sink(0).pending;
    b2!.complete(); // landed, but after the failed one: not part of the log
    b0!.complete();
    b1!.fail(new WalError(WalErrorCode.UNAVAILABLE, 'S3 503'));
    const outcomes = await Promise.allSettled(results);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.toString() : (o.reason as WalError).code))).toEqual([
      'v1:0:0',
      WalErrorCode.UNAVAILABLE,
      WalErrorCode.UNAVAILABLE,
    ]);
    expect(settled).toHaveLength(3);
    const [segment0] = await ctx.meta.segments();
    expect(segment0).toMatchObject({ state: 'completed', lastEntryId: 0 });
    const later = writer.append(message(), undefined);
    await until(() => sink(1)?.pending[0] !== undefined);
    sink(1).pending[0]!.complete();
    expect((await later).toString()).toBe('v1:1:0');
  });

  it('after a failed upload, counts the later blocks the repair finds landed', async () => {
    const { writer, sink } = await setup({ maxBlockEntries: 1, maxParallelUploads: 3 }, false);
    const { results } = track(writer, 3);
    await tick();
    sink(0).repairTo = (acked) => ({ lastEntryId: 2, blocks: 3, bytes: acked.bytes + 1000 });
    const [b0, b1, b2] = sink(0).pending;
    b0!.complete();
    b2!.complete();
    b1!.fail(new WalError(WalErrorCode.UNAVAILABLE, 'timeout: outcome unknown'));
    expect(ids(await Promise.all(results))).toEqual(['v1:0:0', 'v1:0:1', 'v1:0:2']);
  });

  it('when the medium says FENCED, fails everything in flight and queued, and every later append', async () => {
    const { writer, sink, ctx } = await setup({ maxBlockEntries: 1, maxParallelUploads: 2 }, false);
    const { results } = track(writer, 4);
    await tick();
    sink(0).pending[0]!.complete();
    sink(0).pending[1]!.fail(fencedError(ctx.pchannel, 1n, 'fence object'));
    const outcomes = await Promise.allSettled(results);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as WalError).code))).toEqual([
      'ok',
      WalErrorCode.FENCED,
      WalErrorCode.FENCED,
      WalErrorCode.FENCED,
    ]);
    await expect(writer.append(message(), undefined)).rejects.toMatchObject({ code: WalErrorCode.FENCED });
    expect(writer.fenceError?.code).toBe(WalErrorCode.FENCED);
  });

  it('when a fence appeared during a durable write, acknowledges exactly what the new writer recorded', async () => {
    const { writer, sink, ctx } = await setup({ maxBlockEntries: 2 }, false);
    const { results } = track(writer, 2);
    await tick();
    // The new writer (term 2) counted block 0 — its recovery scan saw it — and recorded the end.
    const claim = await ctx.meta.claim(2n);
    const [segment] = await ctx.meta.segments();
    await ctx.meta.completeSegment(segment!, { lastEntryId: 1, blocks: 1, bytes: 500 }, claim);
    sink(0).pending[0]!.complete('fenced-after-write');
    expect(ids(await Promise.all(results))).toEqual(['v1:0:0', 'v1:0:1']);
    await expect(writer.append(message(), undefined)).rejects.toMatchObject({ code: WalErrorCode.FENCED });
  });

  it('abort: a queued append rejects with the reason and is never written; one in a block rejects OUTCOME_UNKNOWN', async () => {
    const { writer, sink, clock } = await setup({ flushIntervalMs: 50 }, false);
    const queued = new AbortController();
    const inBlock = new AbortController();
    const a = writer.append(message(), queued.signal);
    const reason = new Error('changed my mind');
    queued.abort(reason);
    await expect(a).rejects.toBe(reason);
    const b = writer.append(message(), inBlock.signal);
    b.catch(() => {});
    clock.advance(50);
    await tick();
    expect(sink(0).pending).toHaveLength(1);
    inBlock.abort();
    await expect(b).rejects.toMatchObject({ code: WalErrorCode.OUTCOME_UNKNOWN });
    // Only b's entry went into the block: the aborted queued one was dropped before it.
    const header = readBlockHeader(sink(0).pending[0]!.block);
    expect(isHeader(header) && header.entryCount).toBe(1);
    sink(0).pending[0]!.complete();
  });

  it('close writes what was accepted, completes the segment and refuses later appends with CLOSED', async () => {
    const { writer, ctx, store } = await setup({ flushIntervalMs: 200 }, true);
    const { results } = track(writer, 3);
    await writer.close();
    expect(ids(await Promise.all(results))).toEqual(['v1:0:0', 'v1:0:1', 'v1:0:2']);
    expect((await ctx.meta.segments())[0]).toMatchObject({ state: 'completed', lastEntryId: 2 });
    expect(store.sinks[0]!.finished?.lastEntryId).toBe(2);
    await expect(writer.append(message(), undefined)).rejects.toMatchObject({ code: WalErrorCode.CLOSED });
  });
});
