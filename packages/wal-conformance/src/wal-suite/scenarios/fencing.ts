import assert from 'node:assert/strict';
import { MessageType, StreamingError } from '@streamsvc/message';
import type { AnyImmutableMessage, MutableMessage } from '@streamsvc/message';
import { describeError } from '../../support/describe-error.js';
import { expectStreamingError, expectStreamingErrorThrown } from '../../support/expect-rejection.js';
import { handledLater } from '../../support/settle-all.js';
import { assertDelivered, assertStrictlyIncreasingTt } from '../delivery-assertions.js';
import { ExpectedLog } from '../expected-log.js';
import { createCollection, data, KEY, keyOfDelivered, marker, termOf, vchannelOf } from '../messages.js';
import { readToMarker, readUntilEnd } from '../readers.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

const HELD = 4;
const LOOSE = 6;

/**
 * `fencing` (capability `fencing: 'native'`). A term-1 WAL writes, with a reader on it and (where the
 * backend allows) a read-only reader beside it; some of its appends are in flight — held after they
 * got their time tick, or simply slow — when a term-2 WAL opens the pchannel through another opener.
 * Then: the old WAL's appends reject with CHANNEL_FENCED and it reports `available === false`; its
 * in-flight appends either land or reject with CHANNEL_FENCED / ON_SHUTDOWN; its reader ends; a
 * `Wal.open` under term 1 rejects with CHANNEL_FENCED. Every reader of the new term delivers exactly
 * the acknowledged messages of both terms, and none of term 1 after the first message of term 2.
 */
export async function fencing(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const v = vchannelOf(pchannel, 1n);
    const expected = new ExpectedLog();
    const gate = ctx.gate();
    const old = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 1n, interceptors: [gate] });
    const acked = async (p: Promise<{ readonly timeTick: bigint }>, message: MutableMessage): Promise<void> => {
      expected.single(v, { message, timeTick: (await p).timeTick });
    };
    const create = createCollection(v, `${v}/create`);
    await acked(ctx.within(old.append(create), `${pchannel}: CreateCollection`), create);
    for (let i = 0; i < 10; i++) {
      const m = data(v, `old/${i}`);
      await acked(ctx.within(old.append(m), `${pchannel}: append of old/${i}`), m);
    }
    const oldReader = handledLater(
      readUntilEnd(
        ctx,
        ctx.read(old, { policy: { kind: 'all' }, vchannel: v }),
        `${pchannel}: reader of the term-1 WAL`,
      ),
    );
    const readOnly = ctx.capabilities.readOnlyOpen
      ? await ctx.openReadOnlyWal({ opener: await ctx.createOpener(), pchannel, term: 1n })
      : undefined;
    const roRead =
      readOnly &&
      handledLater(
        readToMarker(ctx, readOnly, { policy: { kind: 'all' }, vchannel: v }, 'f2', `${pchannel}: read-only reader`),
      );

    gate.hold((m) => m.userProperties.get(KEY)?.startsWith('held/') === true);
    const inFlight = Array.from({ length: HELD + LOOSE }, (_, i) => {
      const message = data(v, i < HELD ? `held/${i}` : `loose/${i}`);
      return { message, outcome: handledLater(old.append(message)) };
    });
    await ctx.within(gate.whenHeld(HELD), `${pchannel}: ${HELD} term-1 appends held in flight`);
    const fresh = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 2n });
    gate.release();

    for (let i = 0; i < 2; i++) {
      await expectStreamingError(
        `${pchannel}: append ${i} of the term-1 WAL after term 2 opened`,
        () => old.append(data(v, `x/stale-${i}`)),
        'CHANNEL_FENCED',
        ctx.waitTimeoutMs,
      );
    }
    if (old.available) assert.fail(`${pchannel}: the fenced term-1 WAL still reports available`);
    for (const { message, outcome } of inFlight) {
      const key = message.userProperties.get(KEY)!;
      try {
        expected.single(v, {
          message,
          timeTick: (await ctx.within(outcome, `${pchannel}: in-flight ${key}`)).timeTick,
        });
      } catch (e) {
        if (!StreamingError.is(e, 'CHANNEL_FENCED') && !StreamingError.is(e, 'ON_SHUTDOWN')) {
          assert.fail(
            `${pchannel}: in-flight ${key} of the fenced WAL rejected with ${describeError(e)}; expected success, CHANNEL_FENCED or ON_SHUTDOWN`,
          );
        }
      }
    }
    const seenByOld = await oldReader;
    const foreign = seenByOld.find((m) => termOf(m) !== 1n);
    if (foreign)
      assert.fail(
        `${pchannel}: the reader of the term-1 WAL delivered ${keyOfDelivered(foreign)} of term ${termOf(foreign)}`,
      );
    expectStreamingErrorThrown(
      `${pchannel}: read on the fenced WAL`,
      () => old.read({ policy: { kind: 'all' } }),
      'ON_SHUTDOWN',
    );
    await expectStreamingError(
      `${pchannel}: Wal.open under term 1 while term 2 owns the pchannel`,
      async () => ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 1n }),
      'CHANNEL_FENCED',
      ctx.waitTimeoutMs,
    );

    for (let i = 0; i < 10; i++) {
      const m = data(v, `new/${i}`);
      await acked(ctx.within(fresh.append(m), `${pchannel}: append of new/${i}`), m);
    }
    const end = marker(v, 'f2');
    await acked(ctx.within(fresh.append(end), `${pchannel}: the marker`), end);
    const reads: [string, Promise<{ messages: AnyImmutableMessage[] }>][] = [
      [
        'term-2 reader',
        readToMarker(ctx, fresh, { policy: { kind: 'all' }, vchannel: v }, 'f2', `${pchannel}: term-2 reader`),
      ],
    ];
    if (roRead) reads.push(['read-only reader', roRead]);
    for (const [who, read] of reads) {
      const { messages } = await read;
      const what = `${pchannel}: ${who}`;
      assertStrictlyIncreasingTt(messages, what);
      assertDelivered(messages, expected.entries(v), what);
      assertNoOldTermAfterNew(messages, what);
    }
  });
}

function assertNoOldTermAfterNew(messages: readonly AnyImmutableMessage[], what: string): void {
  const start = messages.findIndex((m) => termOf(m) === 2n);
  if (start < 0) assert.fail(`${what}: delivered nothing of term 2`);
  if (messages[start]!.type !== MessageType.TimeTick) {
    assert.fail(
      `${what}: the first message of term 2 is ${keyOfDelivered(messages[start]!)}, not the term's first TimeTick`,
    );
  }
  const stale = messages.slice(start).find((m) => termOf(m) !== 2n);
  if (stale) assert.fail(`${what}: delivered ${keyOfDelivered(stale)} of term ${termOf(stale)} after term 2 began`);
}
