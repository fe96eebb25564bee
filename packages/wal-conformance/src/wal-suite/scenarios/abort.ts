import assert from 'node:assert/strict';
import type { MutableMessage } from '@streamsvc/message';
import type { Wal } from '@streamsvc/wal-core';
import { describeError } from '../../support/describe-error.js';
import { expectRejection } from '../../support/expect-rejection.js';
import { beginTxn, createCollection, data, insert, KEY, vchannelOf } from '../messages.js';
import { storedUserRecords } from '../stored-records.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

/**
 * `abort`: an append whose signal is already aborted never reached the backend, so (as `Wal.append`
 * documents) it rejects with the signal's abort reason itself — not a wrapped error — and writes
 * nothing: the backend, read directly, holds exactly the appends that succeeded. Checked for a custom
 * reason (an Error), the default reason (an AbortError DOMException) and a reason that is not an
 * Error; for Data, Insert and BeginTxn. The WAL keeps serving.
 */
export async function abort(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const v = vchannelOf(pchannel, 1n);
    const wal = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 1n });
    const accepted: string[] = [];
    const accept = async (message: MutableMessage): Promise<void> => {
      await ctx.within(wal.append(message), `${pchannel}: append of ${message.userProperties.get(KEY)}`);
      accepted.push(message.userProperties.get(KEY)!);
    };
    await accept(createCollection(v, `${v}/create`));
    await accept(data(v, 'before'));

    const reasons: [string, () => { signal: AbortSignal; reason: unknown }][] = [
      ['the default AbortError reason', () => aborted(undefined)],
      ['a reason that is not an Error', () => aborted('stop')],
      ['a custom Error reason', () => aborted(new Error(`conformance: append on ${pchannel} aborted on purpose`))],
    ];
    const messages: [string, (key: string) => MutableMessage][] = [
      ['Data', (key) => data(v, key)],
      ['Insert', (key) => insert(v, 1n, key)],
      ['BeginTxn', (key) => beginTxn(v, 1000, key)],
    ];
    for (const [reasonName, makeSignal] of reasons) {
      for (const [type, build] of messages) {
        const { signal, reason } = makeSignal();
        await expectAbortReason(
          ctx,
          wal,
          `${pchannel}: ${type} with an already-aborted signal (${reasonName})`,
          build(`x/${type}`),
          signal,
          reason,
        );
        await accept(data(v, `serving/${reasonName}/${type}`));
      }
    }
    await accept(data(v, 'last'));
    await ctx.within(wal.close(), `${pchannel}: close`);
    const stored = await storedUserRecords(ctx, await ctx.createOpener(), pchannel, 1n, 'last');
    assert.deepEqual(stored, accepted, `${pchannel}: the backend must hold exactly the appends that succeeded`);
  });
}

function aborted(reason: unknown): { signal: AbortSignal; reason: unknown } {
  const controller = new AbortController();
  controller.abort(reason);
  return { signal: controller.signal, reason: controller.signal.reason };
}

async function expectAbortReason(
  ctx: WalScenarioRuntime<unknown>,
  wal: Wal,
  what: string,
  message: MutableMessage,
  signal: AbortSignal,
  reason: unknown,
): Promise<void> {
  const e = await expectRejection(what, () => wal.append(message, { signal }), ctx.waitTimeoutMs);
  if (e !== reason)
    assert.fail(`${what}: rejected with ${describeError(e)}, but expected the signal's abort reason itself`);
}
