import { MessageType } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import type { AppendResult } from '@streamsvc/wal-core';
import { handledLater } from '../../support/settle-all.js';
import { sleep } from '../../support/within.js';
import { assertDelivered, assertStrictlyIncreasingTt } from '../delivery-assertions.js';
import { ExpectedLog } from '../expected-log.js';
import type { Appended } from '../expected-log.js';
import { beginTxn, commitTxn, createCollection, data, insert, isMarker, KEY, marker, vchannelOf } from '../messages.js';
import { readUntil } from '../readers.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

/** How long the scenario waits for the reader to reach the held tick before it lets the tick through. */
const REACH_MS = 300;

/**
 * `buffer-switch-before-push`: on Kafka-like backends a reader can see a persisted TimeTick before the
 * append that wrote it returns, so before the write-ahead buffer holds the tick's group. Here a tick's
 * result is held after its backend write while a reader starts at the first message of its group (a
 * resume point) and reaches it through catch-up; a transaction spans the tick. Once the tick goes
 * through, the reader must still deliver every message from its start exactly once, in time-tick
 * order, the transaction whole.
 */
export async function bufferSwitchBeforePush(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const v = vchannelOf(pchannel, 1n);
    const gate = ctx.gate();
    const wal = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 1n, interceptors: [gate] });
    const append = async (message: MutableMessage): Promise<Appended & { result: AppendResult }> => {
      const result = await ctx.within(wal.append(message), `${pchannel}: append of ${message.userProperties.get(KEY)}`);
      return { message, timeTick: result.timeTick, result };
    };
    await append(createCollection(v, `${v}/create`));
    let last = 0n;
    for (let i = 0; i < 5; i++) last = (await append(data(v, `pre/${i}`))).timeTick;
    // Start from a quiet buffer: everything so far is in it, and no persisted tick is on its way.
    for (let waited = 0; (wal.latestTimeTick ?? 0n) < last; waited += 5) {
      if (waited > ctx.waitTimeoutMs) throw new Error(`${pchannel}: the write-ahead buffer never caught up with pre/4`);
      await sleep(5);
    }

    const expected = new ExpectedLog();
    gate.hold((m) => m.type === MessageType.TimeTick && !m.notPersisted, 'after-write');
    const first = await append(data(v, 'g/0'));
    expected.single(v, first);
    const txnId = (await append(beginTxn(v, 10_000, 'span/begin'))).result.txnContext!.txnId;
    const body = [await append(insert(v, 1n, 'span/b0').withTxnContext({ txnId }))];
    expected.single(v, await append(data(v, 'g/1')));
    await ctx.within(gate.whenHeld(1), `${pchannel}: a persisted time tick held after its write`);

    const scanner = ctx.read(wal, { policy: { kind: 'startFrom', id: first.result.id }, vchannel: v });
    const what = `${pchannel}: reader from the first message of the held tick's group`;
    const read = handledLater(readUntil(ctx, scanner, (m) => isMarker(m, 'sw'), what));
    for (let waited = 0; scanner.stats.switches === 0 && waited < REACH_MS; waited += 10) await sleep(10);
    gate.release();

    body.push(await append(data(v, 'span/b1').withTxnContext({ txnId })));
    expected.txn(v, await append(commitTxn(v, txnId, 'span/commit')), body);
    expected.single(v, await append(data(v, 'g/2')));
    expected.single(v, await append(marker(v, 'sw')));
    const messages = await read;
    assertStrictlyIncreasingTt(messages, what);
    assertDelivered(messages, expected.entries(v), what);
  });
}
