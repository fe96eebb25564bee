import assert from 'node:assert/strict';
import type { MutableMessage } from '@streamsvc/message';
import type { Wal } from '@streamsvc/wal-core';
import { handledLater, settleAll } from '../../support/settle-all.js';
import { assertDelivered, assertStrictlyIncreasingTt } from '../delivery-assertions.js';
import { ExpectedLog } from '../expected-log.js';
import { createCollection, data, insert, isMarker, KEY, marker, vchannelOf } from '../messages.js';
import { WAL_SUITE_DEFAULTS } from '../options.js';
import { readUntil } from '../readers.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

const AFTER = 20;

/**
 * `deliver-latest`: a reader with policy `latest` delivers exactly the messages appended after the
 * `read()` call, in time-tick order — nothing acknowledged before it, and nothing that was already in
 * flight (holding its time tick) when it was made — also when it takes its first message only after
 * the small write-ahead buffer dropped its position and it has to fall back to the backend. On a
 * read-only WAL (where the backend allows), a `latest` reader made once earlier appends resolved
 * delivers exactly the later ones.
 */
export async function deliverLatest(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const v = vchannelOf(pchannel, 1n);
    const gate = ctx.gate();
    const config = { writeAheadBuffer: WAL_SUITE_DEFAULTS.smallBuffer };
    const wal = await ctx.openWal({
      opener: await ctx.createOpener(),
      pchannel,
      term: 1n,
      interceptors: [gate],
      config,
    });
    await ctx.within(wal.append(createCollection(v, `${v}/create`)), `${pchannel}: CreateCollection`);
    for (let i = 0; i < 10; i++) await ctx.within(wal.append(data(v, `before/${i}`)), `${pchannel}: before/${i}`);

    gate.hold((m) => m.userProperties.get(KEY)?.startsWith('in-flight/') === true);
    const inFlight = [0, 1, 2].map((i) => handledLater(wal.append(data(v, `in-flight/${i}`))));
    await ctx.within(gate.whenHeld(inFlight.length), `${pchannel}: appends held in flight`);
    const scanner = ctx.read(wal, { policy: { kind: 'latest' }, vchannel: v });
    const late = ctx.read(wal, { policy: { kind: 'latest' }, vchannel: v });
    gate.release();
    await ctx.within(settleAll(inFlight), `${pchannel}: the appends in flight at read()`);

    const expected = new ExpectedLog();
    await appendAfter(ctx, wal, v, 'l1', expected);
    const what = `${pchannel}: latest reader of the read-write WAL`;
    const messages = await readUntil(ctx, scanner, (m) => isMarker(m, 'l1'), what);
    assertStrictlyIncreasingTt(messages, what);
    assertDelivered(messages, expected.entries(v), what);
    await scanner.close();
    // The second reader starts taking messages only now: the small buffer has dropped its position.
    const lateWhat = `${pchannel}: latest reader of the read-write WAL that fell behind the buffer`;
    const lateMessages = await readUntil(ctx, late, (m) => isMarker(m, 'l1'), lateWhat);
    assertDelivered(lateMessages, expected.entries(v), lateWhat);
    if (late.stats.fallbacks < 1)
      assert.fail(`${lateWhat}: did not fall back to the backend (stats ${JSON.stringify(late.stats)})`);
    await late.close();

    if (!ctx.capabilities.readOnlyOpen) return;
    const readOnly = await ctx.openReadOnlyWal({ opener: await ctx.createOpener(), pchannel, term: 1n });
    const roScanner = ctx.read(readOnly, { policy: { kind: 'latest' }, vchannel: v });
    const roExpected = new ExpectedLog();
    await appendAfter(ctx, wal, v, 'l2', roExpected);
    const roWhat = `${pchannel}: latest reader of a read-only WAL`;
    const roMessages = await readUntil(ctx, roScanner, (m) => isMarker(m, 'l2'), roWhat);
    assertStrictlyIncreasingTt(roMessages, roWhat);
    assertDelivered(roMessages, roExpected.entries(v), roWhat);
    if (roMessages.length === 0) assert.fail(`${roWhat}: delivered nothing`);
  });
}

/** Appends {@link AFTER} messages concurrently, then the marker of `tag`; records all of them. */
async function appendAfter(
  ctx: WalScenarioRuntime<unknown>,
  wal: Wal,
  v: string,
  tag: string,
  expected: ExpectedLog,
): Promise<void> {
  // Padded so that one round overflows the small write-ahead buffer.
  const build = (i: number): MutableMessage =>
    i % 2 === 0 ? data(v, `${tag}/after/${i}`, {}, 1024) : insert(v, 1n, `${tag}/after/${i}`);
  await settleAll(
    Array.from({ length: AFTER }, async (_, i) => {
      const message = build(i);
      expected.single(v, {
        message,
        timeTick: (await ctx.within(wal.append(message), `${wal.pchannel}: ${tag}/after/${i}`)).timeTick,
      });
    }),
  );
  const end = marker(v, tag);
  expected.single(v, {
    message: end,
    timeTick: (await ctx.within(wal.append(end), `${wal.pchannel}: the ${tag} marker`)).timeTick,
  });
}
