import assert from 'node:assert/strict';
import type { BackendWal } from '@streamsvc/wal-core';
import { settlesWithin } from '../../support/within.js';
import { assertSameLog, assertStrictlyIncreasing, keyOf } from '../log-assertions.js';
import { BACKEND_SUITE_DEFAULTS } from '../options.js';
import { dataMessage, TimeTickSource } from '../records.js';
import type { WrittenRecord } from '../records.js';
import { appendRound, forEachTerm, readToMarker, TERMS } from '../rounds.js';
import type { ScenarioRuntime } from '../suite-context.js';

/** The state after one term's round: the handle, the cumulative log and what the round was. */
interface RoundState {
  readonly wal: BackendWal;
  readonly written: readonly WrittenRecord[];
  readonly tag: string;
  readonly term: bigint;
  readonly timeTicks: TimeTickSource;
}

type AfterRound = (state: RoundState) => Promise<void>;

/** Writes a round per term (data accumulating across terms) and runs `check` on the cumulative log. */
async function withCumulativeLog(ctx: ScenarioRuntime<unknown>, pchannel: string, check: AfterRound): Promise<void> {
  const timeTicks = new TimeTickSource();
  const written: WrittenRecord[] = [];
  await forEachTerm(ctx, pchannel, TERMS, async (wal, term) => {
    const tag = `term-${term}`;
    const lastConfirmed = written.at(-1)?.id;
    written.push(
      ...(await appendRound(ctx, wal, { pchannel, term, tag, count: ctx.messageCount, timeTicks, lastConfirmed })),
    );
    await check({ wal, written, tag, term, timeTicks });
  });
}

/** Distinct positions to start reading from: the first, the middle and `last`. */
function positions(length: number, last: number): number[] {
  return [...new Set([0, Math.floor(length / 2), last])];
}

/** `deliver-start-from`: startFrom(written[i]) yields exactly written[i:] (Milvus: i = len/2). */
export async function deliverStartFrom(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel((pchannel) =>
    withCumulativeLog(ctx, pchannel, async ({ wal, written, tag, term }) => {
      for (const i of positions(written.length, written.length - 1)) {
        const from = written[i]!;
        const what = `${pchannel} under term ${term}, startFrom(${from.id.toString()}) (record ${i} of ${written.length})`;
        const list = await readToMarker(ctx, wal, { kind: 'startFrom', id: from.id }, tag, what);
        assertStrictlyIncreasing(list, what);
        assertSameLog(list, written.slice(i), what);
      }
    }),
  );
}

/** `deliver-start-after`: startAfter(written[i]) yields exactly written[i+1:]. */
export async function deliverStartAfter(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel((pchannel) =>
    withCumulativeLog(ctx, pchannel, async ({ wal, written, tag, term }) => {
      for (const i of positions(written.length, written.length - 2)) {
        const after = written[i]!;
        const what = `${pchannel} under term ${term}, startAfter(${after.id.toString()}) (record ${i} of ${written.length})`;
        const list = await readToMarker(ctx, wal, { kind: 'startAfter', id: after.id }, tag, what);
        assertStrictlyIncreasing(list, what);
        assertSameLog(list, written.slice(i + 1), what);
      }
    }),
  );
}

/**
 * `deliver-latest`: a latest reader opened on a log with three terms of data delivers nothing for a
 * second (Milvus checks exactly this), then delivers the first record appended after it started.
 * Checked once, after the last term, to keep the suite's run time at one quiet window.
 */
export async function deliverLatest(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel((pchannel) =>
    withCumulativeLog(ctx, pchannel, async ({ wal, written, term, timeTicks }) => {
      if (term !== TERMS.at(-1)) return;
      const what = `${pchannel}, latest reader`;
      const scanner = await ctx.read(wal, { policy: { kind: 'latest' }, name: 'conformance-latest' });
      const first = scanner[Symbol.asyncIterator]().next();
      const early = await settlesWithin(first, BACKEND_SUITE_DEFAULTS.latestQuietMs);
      if (early !== undefined) {
        const got = early.value.done === true ? 'the end of the scan' : `record ${keyOf(early.value.value)}`;
        assert.fail(
          `${what}: delivered ${got} within ${BACKEND_SUITE_DEFAULTS.latestQuietMs} ms, before anything new was appended`,
        );
      }
      const key = `${pchannel}/after-latest`;
      const stamp = { timeTick: timeTicks.next(), term, lastConfirmed: written.at(-1)!.id };
      const id = await ctx.within(
        wal.append(dataMessage(pchannel, key, stamp)),
        `${what}: append after the quiet window`,
      );
      const step = await ctx.within(first, `${what}: the record appended after the read started`);
      if (step.done === true) assert.fail(`${what}: the scan ended instead of delivering the new record`);
      assert.equal(keyOf(step.value), key, `${what}: delivered another record than the one appended after it started`);
      assert.ok(
        step.value.id.equals(id),
        `${what}: delivered the new record at id ${step.value.id.toString()}, but append returned ${id.toString()}`,
      );
      await ctx.within(scanner.close(), `${what}: scanner.close()`);
    }),
  );
}
