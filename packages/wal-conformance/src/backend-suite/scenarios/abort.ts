import assert from 'node:assert/strict';
import { describeError } from '../../support/describe-error.js';
import { expectRejection } from '../../support/expect-rejection.js';
import { assertSameLog } from '../log-assertions.js';
import { dataMessage, TimeTickSource } from '../records.js';
import { appendRound, readToMarker } from '../rounds.js';
import type { ScenarioRuntime } from '../suite-context.js';

function abortedSignal(what: string): { signal: AbortSignal; reason: Error } {
  const controller = new AbortController();
  const reason = new Error(`conformance: ${what} aborted on purpose`);
  controller.abort(reason);
  return { signal: controller.signal, reason };
}

async function expectAbortReason(what: string, call: () => unknown, reason: unknown, timeoutMs: number): Promise<void> {
  const e = await expectRejection(what, call, timeoutMs);
  if (e !== reason)
    assert.fail(`${what}: rejected with ${describeError(e)}, but expected the signal's abort reason itself`);
}

/**
 * `abort-append`: an append whose signal is already aborted never started, so (SPI) it rejects with
 * the abort reason and nothing is written — the only abort outcome a caller may treat as "not written".
 */
export async function abortAppend(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const timeTicks = new TimeTickSource();
    const opener = await ctx.createOpener();
    const wal = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
    const written = await appendRound(ctx, wal, {
      pchannel,
      term: 1n,
      tag: 'term-1',
      count: 4,
      timeTicks,
      lastConfirmed: undefined,
    });
    const { signal, reason } = abortedSignal('append');
    const message = dataMessage(pchannel, `${pchannel}/aborted`, {
      timeTick: timeTicks.next(),
      term: 1n,
      lastConfirmed: undefined,
    });
    await expectAbortReason(
      `${pchannel}: append with an aborted signal`,
      () => wal.append(message, { signal }),
      reason,
      ctx.waitTimeoutMs,
    );
    written.push(
      ...(await appendRound(ctx, wal, {
        pchannel,
        term: 1n,
        tag: 'after-abort',
        count: 4,
        timeTicks,
        lastConfirmed: written.at(-1)!.id,
      })),
    );
    const what = `${pchannel}, reader after the aborted append`;
    assertSameLog(await readToMarker(ctx, wal, { kind: 'all' }, 'after-abort', what), written, what);
  });
}

/** `abort-read`: a read whose signal is already aborted rejects with the abort reason. */
export async function abortRead(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const opener = await ctx.createOpener();
    const wal = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
    const { signal, reason } = abortedSignal('read');
    await expectAbortReason(
      `${pchannel}: read with an aborted signal`,
      () => wal.read({ policy: { kind: 'all' } }, { signal }),
      reason,
      ctx.waitTimeoutMs,
    );
  });
}

/** `abort-open`: an open whose signal is already aborted rejects with the abort reason. */
export async function abortOpen(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const opener = await ctx.createOpener();
    const { signal, reason } = abortedSignal('open');
    await expectAbortReason(
      `${pchannel}: open with an aborted signal`,
      () => opener.open({ pchannel, term: 1n, mode: 'rw' }, { signal }),
      reason,
      ctx.waitTimeoutMs,
    );
    // The aborted open left nothing behind: the pchannel opens normally afterwards.
    const wal = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
    assert.equal(wal.term, 1n, `${pchannel}: open after an aborted open reports term ${wal.term}`);
  });
}
