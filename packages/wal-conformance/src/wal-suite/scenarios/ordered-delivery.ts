import assert from 'node:assert/strict';
import type { AnyImmutableMessage } from '@streamsvc/message';
import type { Wal, WalScanner } from '@streamsvc/wal-core';
import { handledLater } from '../../support/settle-all.js';
import { assertDelivered, assertStrictlyIncreasingTt } from '../delivery-assertions.js';
import { ExpectedLog } from '../expected-log.js';
import { createCollection, termOf, vchannelOf } from '../messages.js';
import { WAL_SUITE_DEFAULTS } from '../options.js';
import { randomPausePoints, readToMarker } from '../readers.js';
import type { SlowReader } from '../readers.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';
import { appendMarkers, runWorkload } from '../workload.js';

/** The terms every pchannel is opened under, one after the other (Milvus: 1..3). */
export const TERMS: readonly bigint[] = [1n, 2n, 3n];

interface ReaderRun {
  readonly what: string;
  readonly vchannel: string;
  readonly kind: 'rw' | 'ro';
  readonly slow: boolean;
  readonly done: Promise<{ readonly messages: AnyImmutableMessage[]; readonly stats: WalScanner['stats'] }>;
}

/**
 * `ordered-delivery` (Milvus `wal_test.go`, strengthened). Per pchannel and term 1..3 — each term a
 * new `Wal.open` through a new opener on the same storage, the previous WAL closed first — the WAL
 * with a 10 KiB / 500 ms write-ahead buffer takes `messageCount` operations from `writers` concurrent
 * writers on three vchannels (see `runWorkload`), while per vchannel two readers on the read-write WAL,
 * and one reader on a read-only WAL (Milvus: one; here on another vchannel each term), read from the
 * start to the term's marker; one read-write reader per vchannel and the read-only one pause for
 * 100–600 ms twice a term. Each reader must deliver exactly the cumulative acknowledged messages of
 * its vchannel in strictly increasing time-tick order (TimeTicks included),
 * each committed transaction as one Txn at its commit's tick with exactly its body, and nothing of
 * rolled-back or abandoned ones. Over the run the read-write readers must have switched from catch-up
 * to the buffer, and the pausing ones fallen back from it to the backend, at least once.
 *
 * A backend without `readOnlyOpen` gets its read-only readers after the term's writer closed.
 */
export async function orderedDelivery(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const vchannels = Array.from({ length: WAL_SUITE_DEFAULTS.vchannelCount }, (_, i) =>
      vchannelOf(pchannel, BigInt(i + 1)),
    );
    const expected = new ExpectedLog();
    let switches = 0;
    let fallbacks = 0;
    for (const term of TERMS) {
      const tag = `t${term}`;
      const opener = await ctx.createOpener();
      const wal = await ctx.openWal({
        opener,
        pchannel,
        term,
        config: { writeAheadBuffer: WAL_SUITE_DEFAULTS.smallBuffer },
      });
      if (term === 1n) {
        for (const vchannel of vchannels) {
          const message = createCollection(vchannel, `${vchannel}/create`);
          expected.single(vchannel, {
            message,
            timeTick: (await ctx.within(wal.append(message), `${pchannel}: CreateCollection`)).timeTick,
          });
        }
      }
      const slow: SlowReader = { pauseAfter: randomPausePoints(2, 60), counts: (m) => termOf(m) === term };
      const readOnly = ctx.capabilities.readOnlyOpen
        ? await ctx.openReadOnlyWal({ opener: await ctx.createOpener(), pchannel, term })
        : undefined;
      const start = (source: Wal, kind: 'rw' | 'ro', vchannel: string, pausing: boolean, n: number): ReaderRun => {
        const what = `${pchannel} term ${term}, ${kind} reader ${n} of ${vchannel}${pausing ? ' (pausing)' : ''}`;
        const options = { policy: { kind: 'all' as const }, vchannel };
        const pauses = pausing ? { ...slow, onlyWhenTailingBuffer: kind === 'rw' } : undefined;
        return {
          what,
          vchannel,
          kind,
          slow: pausing,
          done: handledLater(readToMarker(ctx, source, options, tag, what, { slow: pauses, keepTicks: false })),
        };
      };
      // The read-only reader takes another vchannel each term, so the run reads every one of them.
      const roVChannel = vchannels[(Number(term) - 1) % vchannels.length]!;
      const readers = vchannels.flatMap((v) => [start(wal, 'rw', v, false, 1), start(wal, 'rw', v, true, 2)]);
      if (readOnly) readers.push(start(readOnly, 'ro', roVChannel, true, 3));
      await runWorkload(ctx, wal, { vchannels, tag, operations: ctx.messageCount, writers: ctx.writers, expected });
      await appendMarkers(ctx, wal, vchannels, tag, expected);
      if (!readOnly) {
        // No read-only open beside a live writer: read the term once its writer is gone.
        await ctx.within(wal.close(), `${pchannel}: close of the term ${term} WAL`);
        const late = await ctx.openReadOnlyWal({ opener: await ctx.createOpener(), pchannel, term });
        readers.push(start(late, 'ro', roVChannel, true, 3));
      }
      for (const reader of readers) {
        const { messages, stats } = await reader.done;
        assertStrictlyIncreasingTt(messages, reader.what);
        assertDelivered(messages, expected.entries(reader.vchannel), reader.what);
        if (reader.kind === 'rw') switches += stats.switches;
        if (reader.kind === 'rw' && reader.slow) fallbacks += stats.fallbacks;
      }
      await ctx.within(wal.close(), `${pchannel}: close of the term ${term} WAL`);
      if (readOnly) await ctx.within(readOnly.close(), `${pchannel}: close of the term ${term} read-only WAL`);
    }
    if (switches < 1) {
      assert.fail(
        `${pchannel}: no read-write reader ever switched from catch-up to the write-ahead buffer in three terms`,
      );
    }
    if (fallbacks < 1) {
      assert.fail(
        `${pchannel}: the pausing readers never fell back from the evicted write-ahead buffer to the backend in three terms`,
      );
    }
  });
}
