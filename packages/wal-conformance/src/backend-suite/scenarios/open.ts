import assert from 'node:assert/strict';
import type { OpenOptions } from '@streamsvc/wal-core';
import { WalErrorCode } from '@streamsvc/wal-core';
import { expectWalError } from '../../support/expect-rejection.js';
import { TERMS } from '../rounds.js';
import type { ScenarioRuntime } from '../suite-context.js';

/** `open-reports-channel`: each handle reports what it was opened with (Milvus: `Channel()` name + term). */
export async function openReportsChannel(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    for (const term of TERMS) {
      const opener = await ctx.createOpener();
      const rw = await ctx.open(opener, { pchannel, term, mode: 'rw' });
      assert.deepEqual(
        { pchannel: rw.pchannel, term: rw.term, mode: rw.mode },
        { pchannel, term, mode: 'rw' },
        `the read-write handle of ${pchannel} opened under term ${term} reports other facts`,
      );
      await ctx.within(rw.close(), `${pchannel}: close of the term ${term} handle`);
      const ro = await ctx.open(opener, { pchannel, term, mode: 'ro' });
      assert.deepEqual(
        { pchannel: ro.pchannel, term: ro.term, mode: ro.mode },
        { pchannel, term, mode: 'ro' },
        `the read-only handle of ${pchannel} opened under term ${term} reports other facts`,
      );
      await ctx.within(ro.close(), `${pchannel}: close of the term ${term} read-only handle`);
      await ctx.within(opener.close(), `${pchannel}: close of the term ${term} opener`);
    }
  });
}

/** `open-rejects-bad-options`: bad arguments are the caller's bug, reported as INVALID_ARGUMENT. */
export async function openRejectsBadOptions(ctx: ScenarioRuntime<unknown>): Promise<void> {
  const opener = await ctx.createOpener();
  const [pchannel] = ctx.uniquePChannels(1) as [string];
  const bad: readonly [string, OpenOptions][] = [
    ['an empty pchannel', { pchannel: '', term: 1n, mode: 'rw' }],
    ['an empty pchannel (read-only)', { pchannel: '', term: 1n, mode: 'ro' }],
    ['term 0', { pchannel, term: 0n, mode: 'rw' }],
    ['term -1', { pchannel, term: -1n, mode: 'rw' }],
    ['term 0 (read-only)', { pchannel, term: 0n, mode: 'ro' }],
    ['an unknown mode', { pchannel, term: 1n, mode: 'append-only' as never }],
  ];
  for (const [what, options] of bad) {
    await expectWalError(
      `open with ${what}`,
      () => opener.open(options),
      WalErrorCode.INVALID_ARGUMENT,
      ctx.waitTimeoutMs,
    );
  }
  // Rejecting bad options must not break the opener.
  const wal = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
  assert.equal(wal.pchannel, pchannel, 'the opener no longer opens valid pchannels after rejecting bad options');
}
