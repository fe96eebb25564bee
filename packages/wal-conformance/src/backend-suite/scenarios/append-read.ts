import assert from 'node:assert/strict';
import type { WrittenRecord } from '../records.js';
import { TimeTickSource } from '../records.js';
import { assertSameLog, assertStrictlyIncreasing } from '../log-assertions.js';
import { appendRound, forEachTerm, readToMarker, TERMS } from '../rounds.js';
import type { ScenarioRuntime } from '../suite-context.js';
import { handledLater } from '../../support/settle-all.js';

/**
 * `append-read-concurrent` (Milvus `testReadAndWrite`): per pchannel and term, two readers from the
 * start of the log run while five writers append; each reader must see exactly the cumulative written
 * list — every term so far — in strictly increasing id order: no loss, no duplicates, no reordering,
 * and the data survives the handover to a new opener.
 */
export async function appendReadConcurrent(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const timeTicks = new TimeTickSource();
    const written: WrittenRecord[] = [];
    await forEachTerm(ctx, pchannel, TERMS, async (wal, term) => {
      const tag = `term-${term}`;
      const what = `${pchannel} under term ${term}`;
      const readers = [1, 2].map((r) =>
        handledLater(readToMarker(ctx, wal, { kind: 'all' }, tag, `${what}, reader ${r}`)),
      );
      const round = await appendRound(ctx, wal, {
        pchannel,
        term,
        tag,
        count: ctx.messageCount,
        timeTicks,
        lastConfirmed: written.at(-1)?.id,
      });
      const previous = written.at(-1);
      if (previous !== undefined && previous.id.compare(round[0]!.id) !== -1) {
        assert.fail(
          `${what}: the first id after reopening (${round[0]!.id.toString()}) is not after the last id of the previous term (${previous.id.toString()})`,
        );
      }
      written.push(...round);
      const lists = await Promise.all(readers);
      lists.forEach((list, r) => {
        assertStrictlyIncreasing(list, `${what}, reader ${r + 1}`);
        assertSameLog(list, written, `${what}, reader ${r + 1}`);
      });
    });
  });
}
