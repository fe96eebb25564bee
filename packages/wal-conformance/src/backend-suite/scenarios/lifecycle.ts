import assert from 'node:assert/strict';
import type { BackendScanner } from '@streamsvc/wal-core';
import { WalErrorCode } from '@streamsvc/wal-core';
import { expectWalError } from '../../support/expect-rejection.js';
import { dataMessage, TimeTickSource } from '../records.js';
import { appendRound } from '../rounds.js';
import type { ScenarioRuntime } from '../suite-context.js';

/**
 * `close-idempotent`: `close()` twice returns the same promise (a second caller waits for the first
 * close instead of starting another), and `Symbol.asyncDispose` — what `await using` calls — closes.
 */
export async function closeIdempotent(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const opener = await ctx.createOpener();
    const wal = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
    const scanner = await ctx.read(wal, { policy: { kind: 'all' } });
    const scannerCloses = [scanner.close(), scanner.close()];
    await ctx.within(Promise.all(scannerCloses), `${pchannel}: scanner.close() twice`);
    await ctx.within(scanner[Symbol.asyncDispose](), `${pchannel}: scanner[Symbol.asyncDispose]() after close`);

    const first = wal.close();
    assert.equal(wal.close(), first, `${pchannel}: a second handle.close() returned another promise`);
    await ctx.within(first, `${pchannel}: handle.close()`);
    await ctx.within(wal[Symbol.asyncDispose](), `${pchannel}: handle[Symbol.asyncDispose]() after close`);

    const disposed = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
    await ctx.within(disposed[Symbol.asyncDispose](), `${pchannel}: handle[Symbol.asyncDispose]()`);
    const message = dataMessage(pchannel, `${pchannel}/after-dispose`, {
      timeTick: 1n,
      term: 1n,
      lastConfirmed: undefined,
    });
    await expectWalError(
      `${pchannel}: append after Symbol.asyncDispose`,
      () => disposed.append(message),
      WalErrorCode.CLOSED,
      ctx.waitTimeoutMs,
    );

    const opened = opener.close();
    assert.equal(opener.close(), opened, `${pchannel}: a second opener.close() returned another promise`);
    await ctx.within(opened, `${pchannel}: opener.close()`);
    await ctx.within(opener[Symbol.asyncDispose](), `${pchannel}: opener[Symbol.asyncDispose]() after close`);
  });
}

/**
 * `operations-after-close`: a closed handle rejects append, truncate and read with CLOSED; a closed
 * opener rejects open with CLOSED and has closed the handles it opened (SPI: handles are closed first).
 */
export async function operationsAfterClose(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const timeTicks = new TimeTickSource();
    const opener = await ctx.createOpener();
    const wal = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
    const [first] = await appendRound(ctx, wal, {
      pchannel,
      term: 1n,
      tag: 'term-1',
      count: 4,
      timeTicks,
      lastConfirmed: undefined,
    });
    await ctx.within(wal.close(), `${pchannel}: handle.close()`);
    // Opened only after the writer closed: backends without capability readOnlyOpen need no writer gone.
    const ro = await ctx.open(opener, { pchannel, term: 1n, mode: 'ro' });
    await ctx.within(ro.close(), `${pchannel}: read-only handle.close()`);
    const stamp = { timeTick: timeTicks.next(), term: 1n, lastConfirmed: undefined };
    const message = dataMessage(pchannel, `${pchannel}/after-close`, stamp);
    const closed = (what: string, call: () => unknown): Promise<unknown> =>
      expectWalError(`${pchannel}: ${what}`, call, WalErrorCode.CLOSED, ctx.waitTimeoutMs);
    await closed('append on a closed handle', () => wal.append(message));
    await closed('truncate on a closed handle', () => wal.truncate(first!.id));
    await closed('read on a closed handle', () => wal.read({ policy: { kind: 'all' } }));
    await closed('read on a closed read-only handle', () => ro.read({ policy: { kind: 'all' } }));

    const live = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
    await ctx.within(opener.close(), `${pchannel}: opener.close()`);
    await closed('open on a closed opener', () => opener.open({ pchannel, term: 1n, mode: 'rw' }));
    const again = dataMessage(pchannel, `${pchannel}/after-opener-close`, { ...stamp, timeTick: timeTicks.next() });
    await closed('append on a handle whose opener closed', () => live.append(again));
  });
}

/**
 * `close-ends-scanners`: a read waiting at the tail ends (`next()` resolves done) when its scanner,
 * its handle or its opener closes, and stays ended even though the log has records it never delivered.
 */
export async function closeEndsScanners(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const opener = await ctx.createOpener();
    const wal = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
    await appendRound(ctx, wal, {
      pchannel,
      term: 1n,
      tag: 'term-1',
      count: 4,
      timeTicks: new TimeTickSource(),
      lastConfirmed: undefined,
    });
    const ends = async (scanner: BackendScanner, close: () => Promise<void>, what: string): Promise<void> => {
      const iterator = scanner[Symbol.asyncIterator]();
      const waiting = iterator.next();
      await ctx.within(close(), `${pchannel}: ${what}`);
      const step = await ctx.within(waiting, `${pchannel}: the waiting next() to end after ${what}`);
      assert.equal(step.done, true, `${pchannel}: a read waiting at the tail delivered a record after ${what}`);
      const later = await ctx.within(iterator.next(), `${pchannel}: next() after ${what}`);
      assert.equal(later.done, true, `${pchannel}: next() delivered a record after ${what}`);
    };
    const own = await ctx.read(wal, { policy: { kind: 'latest' } });
    await ends(own, () => own.close(), 'scanner.close()');
    const byHandle = await ctx.read(wal, { policy: { kind: 'latest' } });
    await ends(byHandle, () => wal.close(), 'handle.close()');

    const ro = await ctx.open(opener, { pchannel, term: 1n, mode: 'ro' });
    const byOpener = await ctx.read(ro, { policy: { kind: 'latest' } });
    await ends(byOpener, () => opener.close(), 'opener.close()');

    const fresh = await ctx.createOpener();
    const reader = await ctx.open(fresh, { pchannel, term: 1n, mode: 'ro' });
    const pending = await ctx.read(reader, { policy: { kind: 'all' } });
    await ctx.within(pending.close(), `${pchannel}: scanner.close() before reading`);
    const step = await ctx.within(pending[Symbol.asyncIterator]().next(), `${pchannel}: next() on a closed scanner`);
    assert.equal(step.done, true, `${pchannel}: a closed scanner delivered a record the log holds`);
  });
}
