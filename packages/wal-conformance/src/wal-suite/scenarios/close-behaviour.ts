import assert from 'node:assert/strict';
import { StreamingError } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import type { AppendResult, Wal, WalScanner } from '@streamsvc/wal-core';
import { describeError } from '../../support/describe-error.js';
import { expectStreamingError, expectStreamingErrorThrown } from '../../support/expect-rejection.js';
import { handledLater } from '../../support/settle-all.js';
import { sleep } from '../../support/within.js';
import { assertDelivered } from '../delivery-assertions.js';
import { ExpectedLog } from '../expected-log.js';
import { createCollection, data, KEY, keyOfDelivered, marker, vchannelOf } from '../messages.js';
import { readToMarker, readUntil } from '../readers.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

/** A graceful-close bound short enough to be passed on purpose. */
const SHORT_GRACE_MS = 200;

/**
 * `close-behaviour`: `close()` returns the same promise every time (and `Symbol.asyncDispose` closes);
 * readers waiting at the tail — of the read-write WAL and of a read-only one — end; appends in flight
 * when close starts either succeed or reject with ON_SHUTDOWN, also when one is still held after the
 * graceful-close bound, and never hang; appends and reads asked for after close starts reject with
 * ON_SHUTDOWN. A new owner then delivers exactly the appends that succeeded.
 */
export async function closeBehaviour(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const v = vchannelOf(pchannel, 1n);
    const expected = new ExpectedLog();
    const record = (message: MutableMessage, result: AppendResult): void =>
      expected.single(v, { message, timeTick: result.timeTick });
    const gate = ctx.gate();
    const wal = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 1n, interceptors: [gate] });
    const create = createCollection(v, `${v}/create`);
    record(create, await ctx.within(wal.append(create), `${pchannel}: CreateCollection`));
    const pre = data(v, 'pre/last');
    record(pre, await ctx.within(wal.append(pre), `${pchannel}: pre/last`));
    const waiting = await pendingReader(ctx, wal, `${pchannel}: read-write reader at the tail`);

    gate.hold((m) => m.userProperties.get(KEY)?.startsWith('held/') === true);
    const inFlight = ['held/0', 'held/1', 'loose/0', 'loose/1', 'loose/2'].map((key) => {
      const message = data(v, key);
      return { key, message, outcome: handledLater(wal.append(message)) };
    });
    await ctx.within(gate.whenHeld(2), `${pchannel}: two appends held in flight`);
    const closing = wal.close();
    // Asked for after close() returned, in the same tick: both must be refused (checked at the end, so
    // that the rest of the scenario runs whatever they do).
    const lateMessage = data(v, 'late/append');
    const lateAppend = handledLater(wal.append(lateMessage));
    const lateRead = attempt(() => ctx.read(wal, { policy: { kind: 'all' } }));
    if (wal.close() !== closing) assert.fail(`${pchannel}: a second close() returned another promise`);
    await sleep(50);
    await expectStreamingError(
      `${pchannel}: append while closing`,
      () => wal.append(data(v, 'x/late')),
      'ON_SHUTDOWN',
      ctx.waitTimeoutMs,
    );
    expectStreamingErrorThrown(
      `${pchannel}: read while closing`,
      () => ctx.read(wal, { policy: { kind: 'all' } }),
      'ON_SHUTDOWN',
    );
    gate.release();
    await ctx.within(closing, `${pchannel}: close() with appends in flight`);
    await ctx.within(wal[Symbol.asyncDispose](), `${pchannel}: Symbol.asyncDispose after close`);
    for (const { key, message, outcome } of inFlight) {
      const result = await settled(ctx, outcome, `${pchannel}: ${key}, in flight at close`);
      if (result) record(message, result);
    }
    const lateOutcome = await ctx.within(
      lateAppend.then(
        (r) => ({ r }),
        (e: unknown) => ({ e }),
      ),
      `${pchannel}: late/append`,
    );
    if ('r' in lateOutcome) record(lateMessage, lateOutcome.r);
    await endsWithin(ctx, waiting, `${pchannel}: read-write reader at the tail when its WAL closed`);

    // Past the graceful-close bound: close goes ahead; the held append must still settle.
    const second = await ctx.openWal({
      opener: await ctx.createOpener(),
      pchannel,
      term: 2n,
      interceptors: [gate],
      config: { gracefulCloseTimeoutMs: SHORT_GRACE_MS },
    });
    const readOnly = ctx.capabilities.readOnlyOpen
      ? await ctx.openReadOnlyWal({ opener: await ctx.createOpener(), pchannel, term: 2n })
      : undefined;
    const roWaiting = readOnly && (await pendingReader(ctx, readOnly, `${pchannel}: read-only reader at the tail`));
    gate.hold((m) => m.userProperties.get(KEY) === 'held/late');
    const stuck = data(v, 'held/late');
    const stuckOutcome = handledLater(second.append(stuck));
    await ctx.within(gate.whenHeld(1), `${pchannel}: the append held past the graceful-close bound`);
    await ctx.within(second.close(), `${pchannel}: close() with an append held past ${SHORT_GRACE_MS} ms`);
    gate.release();
    const late = await settled(ctx, stuckOutcome, `${pchannel}: held/late, held past the graceful-close bound`);
    if (late) record(stuck, late);
    if (readOnly && roWaiting) {
      const roClosing = readOnly.close();
      if (readOnly.close() !== roClosing)
        assert.fail(`${pchannel}: a second close() of the read-only WAL returned another promise`);
      await ctx.within(roClosing, `${pchannel}: close() of the read-only WAL`);
      await endsWithin(ctx, roWaiting, `${pchannel}: read-only reader at the tail when its WAL closed`);
    }

    const third = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 3n });
    const end = marker(v, 'c3');
    record(end, await ctx.within(third.append(end), `${pchannel}: the marker`));
    const { messages } = await readToMarker(
      ctx,
      third,
      { policy: { kind: 'all' }, vchannel: v },
      'c3',
      `${pchannel}: reader after the closes`,
    );
    assertDelivered(
      messages,
      expected.entries(v),
      `${pchannel}: reader after the closes (exactly the appends that succeeded)`,
    );

    if (!('e' in lateOutcome) || !StreamingError.is(lateOutcome.e, 'ON_SHUTDOWN')) {
      const got = 'e' in lateOutcome ? `rejected with ${describeError(lateOutcome.e)}` : 'was accepted and written';
      assert.fail(
        `${pchannel}: an append made right after close() returned (same tick) ${got}; close must refuse new appends with ON_SHUTDOWN`,
      );
    }
    if (!StreamingError.is(lateRead.error, 'ON_SHUTDOWN')) {
      const got = lateRead.error === undefined ? 'returned a reader' : `threw ${describeError(lateRead.error)}`;
      assert.fail(
        `${pchannel}: a read made right after close() returned (same tick) ${got}; it must throw ON_SHUTDOWN`,
      );
    }
  });
}

function attempt(call: () => unknown): { readonly error: unknown } {
  try {
    call();
    return { error: undefined };
  } catch (error) {
    return { error };
  }
}

/** A reader of `wal` that has delivered everything so far and now waits at the tail in `next()`. */
async function pendingReader(
  ctx: WalScenarioRuntime<unknown>,
  wal: Wal,
  what: string,
): Promise<{ readonly scanner: WalScanner; readonly next: Promise<IteratorResult<unknown>> }> {
  const scanner = ctx.read(wal, { policy: { kind: 'all' } });
  await readUntil(ctx, scanner, (m) => keyOfDelivered(m) === 'pre/last', what);
  return { scanner, next: handledLater(scanner.next()) };
}

/** Waits for a pending reader to end; messages published before the close may still come first. */
async function endsWithin(
  ctx: WalScenarioRuntime<unknown>,
  reader: { readonly scanner: WalScanner; readonly next: Promise<IteratorResult<unknown>> },
  what: string,
): Promise<void> {
  let step = await ctx.within(reader.next, what);
  while (step.done !== true) step = await ctx.within(reader.scanner.next(), what);
}

/** The result of an append in flight at close: its result, or undefined when it rejected with ON_SHUTDOWN. */
async function settled(
  ctx: WalScenarioRuntime<unknown>,
  outcome: Promise<AppendResult>,
  what: string,
): Promise<AppendResult | undefined> {
  try {
    return await ctx.within(outcome, what);
  } catch (e) {
    if (StreamingError.is(e, 'ON_SHUTDOWN')) return undefined;
    assert.fail(`${what}: rejected with ${describeError(e)}; expected success or ON_SHUTDOWN`);
  }
}
