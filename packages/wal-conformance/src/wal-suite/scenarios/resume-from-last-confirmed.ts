import assert from 'node:assert/strict';
import { MessageType } from '@streamsvc/message';
import type { AnyImmutableMessage } from '@streamsvc/message';
import type { Wal } from '@streamsvc/wal-core';
import {
  assertDelivered,
  assertSameDelivery,
  assertStrictlyIncreasingTt,
  withoutVolatileTicks,
} from '../delivery-assertions.js';
import { ExpectedLog } from '../expected-log.js';
import { createCollection, keyOfDelivered, vchannelOf } from '../messages.js';
import { readToMarker } from '../readers.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';
import { appendMarkers, runWorkload } from '../workload.js';

/** Messages resumed from, per pchannel and WAL (Milvus: 5). */
const PICKS = 20;
/** Resumed reads running at once. */
const BATCH = 5;

/**
 * `resume-from-last-confirmed` (DESIGN §4, Milvus `testReadWithOption`): the last-confirmed id is a
 * safe resume point. After two terms of mixed load (transactions committed, rolled back, abandoned)
 * a reader delivers a vchannel in full; then for at least 20 of its messages m — Txns, persisted and
 * in-memory TimeTicks and plain messages among them — a reader from `startFrom(m.lastConfirmed)` with
 * filter `timeTickGt m.timeTick` on the same vchannel delivers exactly what followed m (persisted
 * TimeTicks included, in-memory ones aside), on the read-write WAL and on a read-only one.
 */
export async function resumeFromLastConfirmed(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const vchannels = [1n, 2n].map((c) => vchannelOf(pchannel, c));
    const expected = new ExpectedLog();
    const operations = Math.max(50, Math.floor(ctx.messageCount / 20));
    let wal: Wal | undefined;
    for (const term of [1n, 2n]) {
      if (wal) await ctx.within(wal.close(), `${pchannel}: close of the term ${term - 1n} WAL`);
      wal = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term });
      if (term === 1n) {
        for (const v of vchannels) {
          const message = createCollection(v, `${v}/create`);
          expected.single(v, {
            message,
            timeTick: (await ctx.within(wal.append(message), `${pchannel}: CreateCollection`)).timeTick,
          });
        }
      }
      await runWorkload(ctx, wal, { vchannels, tag: `q${term}`, operations, writers: ctx.writers, expected });
      await appendMarkers(ctx, wal, vchannels, `q${term}`, expected);
    }
    const writer = wal!;
    const v = vchannels[0]!;
    const what = `${pchannel}: full read of ${v}`;
    const full = (await readToMarker(ctx, writer, { policy: { kind: 'all' }, vchannel: v }, 'q2', what)).messages;
    assertDelivered(full, expected.entries(v), what);
    const picks = choosePicks(full);

    const resumeAll = async (source: Wal): Promise<void> => {
      for (let i = 0; i < picks.length; i += BATCH) {
        await Promise.all(
          picks.slice(i, i + BATCH).map(async (index) => {
            const m = full[index]!;
            const who = `${pchannel}: ${source.mode} reader resuming after message ${index} (${describePick(m)})`;
            const options = {
              policy: { kind: 'startFrom' as const, id: m.lastConfirmed },
              vchannel: v,
              filters: [{ kind: 'timeTickGt' as const, tt: m.timeTick }],
            };
            const { messages } = await readToMarker(ctx, source, options, 'q2', who);
            assertStrictlyIncreasingTt(messages, who);
            assertSameDelivery(withoutVolatileTicks(messages), withoutVolatileTicks(full.slice(index + 1)), who);
          }),
        );
      }
    };
    await resumeAll(writer);
    await resumeAll(await ctx.openReadOnlyBeside(writer));
  });
}

/**
 * At least {@link PICKS} distinct indexes of messages before the last one: every kind present (Txn,
 * persisted TimeTick, in-memory TimeTick, plain message) at least once, the rest at random.
 */
function choosePicks(full: readonly AnyImmutableMessage[]): number[] {
  const candidates = full.length - 1;
  if (candidates < PICKS)
    assert.fail(`the full read delivered only ${full.length} messages; at least ${PICKS + 1} are needed`);
  const kinds: ((m: AnyImmutableMessage) => boolean)[] = [
    (m) => m.type === MessageType.Txn,
    (m) => m.type === MessageType.TimeTick && !m.notPersisted,
    (m) => m.type === MessageType.TimeTick && m.notPersisted,
    (m) => m.type !== MessageType.Txn && m.type !== MessageType.TimeTick,
  ];
  const picks = new Set<number>();
  for (const kind of kinds) {
    const matching = full.slice(0, candidates).flatMap((m, i) => (kind(m) ? [i] : []));
    if (matching.length > 0) picks.add(matching[Math.floor(Math.random() * matching.length)]!);
  }
  if (![...picks].some((i) => full[i]!.type === MessageType.Txn))
    assert.fail('the full read delivered no Txn to resume from');
  while (picks.size < PICKS) picks.add(Math.floor(Math.random() * candidates));
  return [...picks].sort((a, b) => a - b);
}

function describePick(m: AnyImmutableMessage): string {
  if (m.type === MessageType.TimeTick) return `${m.notPersisted ? 'in-memory' : 'persisted'} TimeTick @${m.timeTick}`;
  return `${m.type === MessageType.Txn ? 'Txn' : m.typeName} ${keyOfDelivered(m)} @${m.timeTick}`;
}
