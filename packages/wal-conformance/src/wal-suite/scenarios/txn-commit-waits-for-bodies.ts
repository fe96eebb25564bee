import assert from 'node:assert/strict';
import type { MutableMessage } from '@streamsvc/message';
import type { AppendResult, Wal } from '@streamsvc/wal-core';
import { describeError } from '../../support/describe-error.js';
import { handledLater } from '../../support/settle-all.js';
import { settlesWithin, sleep } from '../../support/within.js';
import { assertDelivered, assertStrictlyIncreasingTt } from '../delivery-assertions.js';
import { ExpectedLog } from '../expected-log.js';
import type { Appended } from '../expected-log.js';
import { beginTxn, commitTxn, createCollection, data, insert, KEY, marker, vchannelOf } from '../messages.js';
import { readToMarker } from '../readers.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

const HELD_BODIES = 4;
const LOOSE_BODIES = 6;

/**
 * `txn-commit-waits-for-bodies` (Milvus TxnSession `RequestCommitAndWait`): a CommitTxn issued while
 * body appends of its transaction are in flight waits until they are done — the commit is stored after
 * every one of them — and the delivered Txn holds all of them in time-tick order. Shown twice: with the bodies
 * held on purpose after they got their time ticks (the commit must not complete meanwhile), and with
 * bodies simply racing the commit through the backend (which exercises real overlap on a backend with
 * latency, e.g. the memory backend's `appendLatencyMs`).
 */
export async function txnCommitWaitsForBodies(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const v = vchannelOf(pchannel, 1n);
    const expected = new ExpectedLog();
    const gate = ctx.gate();
    const wal = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 1n, interceptors: [gate] });
    const append = async (message: MutableMessage): Promise<Appended & { result: AppendResult }> => {
      const key = message.userProperties.get(KEY)!;
      const result = await ctx.within(wal.append(message), `${pchannel}: append of ${key}`).catch((e: unknown) => {
        throw new Error(`${pchannel}: append of ${key} failed: ${describeError(e)}`, { cause: e });
      });
      return { message, timeTick: result.timeTick, result };
    };
    expected.single(v, await append(createCollection(v, `${v}/create`)));

    const held = (await append(beginTxn(v, 10_000, 'held/begin'))).result.txnContext!.txnId;
    gate.hold((m) => m.userProperties.get(KEY)?.startsWith('held/b') === true);
    const heldBodies = Array.from({ length: HELD_BODIES }, (_, i) =>
      handledLater(append(body(v, `held/b${i}`, held, i))),
    );
    await ctx.within(gate.whenHeld(HELD_BODIES), `${pchannel}: ${HELD_BODIES} body appends held in flight`);
    const heldCommit = handledLater(append(commitTxn(v, held, 'held/commit')));
    if ((await settlesWithin(heldCommit, 150)) !== undefined) {
      assert.fail(
        `${pchannel}: the commit completed while ${HELD_BODIES} body appends of its txn were still in flight`,
      );
    }
    gate.release();
    await recordTxn(ctx, expected, v, heldBodies, heldCommit, `${pchannel}: held bodies`);

    const loose = (await append(beginTxn(v, 10_000, 'loose/begin'))).result.txnContext!.txnId;
    const looseBodies = Array.from({ length: LOOSE_BODIES }, (_, i) =>
      handledLater(append(body(v, `loose/b${i}`, loose, i))),
    );
    await sleep(0); // every body has entered the WAL and holds its time tick; most are still being written
    const looseCommit = handledLater(append(commitTxn(v, loose, 'loose/commit')));
    await recordTxn(ctx, expected, v, looseBodies, looseCommit, `${pchannel}: racing bodies`);

    expected.single(v, await append(marker(v, 'cw')));
    const check = async (source: Wal): Promise<void> => {
      const what = `${pchannel}: ${source.mode} reader`;
      const { messages } = await readToMarker(ctx, source, { policy: { kind: 'all' }, vchannel: v }, 'cw', what);
      assertStrictlyIncreasingTt(messages, what);
      assertDelivered(messages, expected.entries(v), what);
    };
    await check(wal);
    await check(await ctx.openReadOnlyBeside(wal));
  });
}

function body(v: string, key: string, txnId: bigint, i: number): MutableMessage {
  return (i % 2 === 0 ? insert(v, 1n, key) : data(v, key)).withTxnContext({ txnId });
}

/** Waits for the bodies and the commit, checks the commit finished last, and records the txn. */
async function recordTxn(
  ctx: WalScenarioRuntime<unknown>,
  expected: ExpectedLog,
  v: string,
  bodies: readonly Promise<Appended & { result: AppendResult }>[],
  commit: Promise<Appended & { result: AppendResult }>,
  what: string,
): Promise<void> {
  const parts = await ctx.within(Promise.all(bodies), `${what}: the body appends`);
  const committed = await ctx.within(commit, `${what}: the commit`);
  for (const p of parts) {
    const key = p.message.userProperties.get(KEY)!;
    // The commit's write started once every body's write had finished, so the log orders it after them.
    if (p.result.id.compare(committed.result.id) >= 0) {
      assert.fail(
        `${what}: body ${key} was stored at ${p.result.id.toString()}, not before its commit at ${committed.result.id.toString()}`,
      );
    }
    if (p.timeTick >= committed.timeTick) assert.fail(`${what}: body ${key} has a time tick after its commit`);
  }
  expected.txn(v, committed, parts);
}
