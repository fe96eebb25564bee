import assert from 'node:assert/strict';
import type { MutableMessage } from '@streamsvc/message';
import type { Wal } from '@streamsvc/wal-core';
import { expectStreamingError } from '../../support/expect-rejection.js';
import { handledLater } from '../../support/settle-all.js';
import { settlesWithin } from '../../support/within.js';
import { assertDelivered, assertStrictlyIncreasingTt } from '../delivery-assertions.js';
import { ExpectedLog } from '../expected-log.js';
import type { Appended } from '../expected-log.js';
import {
  beginTxn,
  commitTxn,
  createCollection,
  createPartition,
  data,
  dropPartition,
  insert,
  KEY,
  marker,
  rollbackTxn,
  vchannelOf,
} from '../messages.js';
import { readToMarker } from '../readers.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

/**
 * `txn-atomicity-under-ddl` (DESIGN §3, Milvus `FailTxnAtVChannel`): an exclusive DDL on a vchannel —
 * CreatePartition, then DropPartition — fails every transaction open on that vchannel, including one
 * whose body append was in flight when the DDL arrived (the DDL waits for it): their commit, rollback
 * and further bodies reject with INVALID_TRANSACTION_STATE and they are never delivered. Transactions
 * on another vchannel, and ones begun after the DDL, commit and are delivered whole.
 */
export async function txnAtomicityUnderDdl(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const [v1, v2] = [1n, 2n].map((c) => vchannelOf(pchannel, c)) as [string, string];
    const expected = new ExpectedLog();
    const gate = ctx.gate();
    const wal = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 1n, interceptors: [gate] });
    const append = async (message: MutableMessage): Promise<Appended & { txnId: bigint }> => {
      const result = await ctx.within(wal.append(message), `${pchannel}: append of ${message.userProperties.get(KEY)}`);
      return { message, timeTick: result.timeTick, txnId: result.txnContext?.txnId ?? 0n };
    };
    const single = async (v: string, message: MutableMessage): Promise<void> =>
      expected.single(v, await append(message));
    const refused = (what: string, message: MutableMessage): Promise<unknown> =>
      expectStreamingError(
        `${pchannel}: ${what}`,
        () => wal.append(message),
        'INVALID_TRANSACTION_STATE',
        ctx.waitTimeoutMs,
      );

    for (const v of [v1, v2]) await single(v, createCollection(v, `${v}/create`));
    const open = async (v: string, key: string): Promise<{ txnId: bigint; body: Appended[] }> => {
      const { txnId } = await append(beginTxn(v, 60_000, `${key}/begin`));
      return { txnId, body: [await append(insert(v, 1n, `${key}/b0`).withTxnContext({ txnId }))] };
    };
    const doomed = await open(v1, 'doomed');
    const other = await open(v2, 'other');
    const racing = await open(v1, 'racing');

    gate.hold((m) => m.userProperties.get(KEY) === 'racing/b1');
    const racingBody = handledLater(append(data(v1, 'racing/b1').withTxnContext({ txnId: racing.txnId })));
    await ctx.within(gate.whenHeld(1), `${pchannel}: racing/b1 held in flight`);
    const ddl = createPartition(v1, 3n, 'ddl/create-p3');
    const ddlDone = handledLater(append(ddl));
    if ((await settlesWithin(ddlDone, 100)) !== undefined) {
      assert.fail(
        `${pchannel}: CreatePartition on ${v1} completed while a body append on ${v1} was in flight; an exclusive DDL must wait for it`,
      );
    }
    gate.release();
    await ctx.within(racingBody, `${pchannel}: racing/b1`);
    expected.single(v1, await ctx.within(ddlDone, `${pchannel}: CreatePartition`));

    for (const [name, txn] of [
      ['doomed', doomed],
      ['racing', racing],
    ] as const) {
      await refused(`a body of ${name} after the DDL`, data(v1, `x/${name}/b`).withTxnContext({ txnId: txn.txnId }));
      await refused(`the commit of ${name} after the DDL`, commitTxn(v1, txn.txnId, `x/${name}/commit`));
      await refused(`the rollback of ${name} after the DDL`, rollbackTxn(v1, txn.txnId, `x/${name}/rollback`));
    }
    other.body.push(await append(data(v2, 'other/b1').withTxnContext({ txnId: other.txnId })));
    expected.txn(v2, await append(commitTxn(v2, other.txnId, 'other/commit')), other.body);

    const later = await open(v1, 'later');
    later.body.push(await append(insert(v1, 3n, 'later/b1').withTxnContext({ txnId: later.txnId })));
    const beforeDrop = await open(v1, 'before-drop');
    await single(v1, dropPartition(v1, 2n, 'ddl/drop-p2'));
    await refused('the commit of a txn open at DropPartition', commitTxn(v1, beforeDrop.txnId, 'x/before-drop/commit'));
    await refused('the commit of later, open at DropPartition', commitTxn(v1, later.txnId, 'x/later/commit'));
    const after = await open(v1, 'after');
    expected.txn(v1, await append(commitTxn(v1, after.txnId, 'after/commit')), after.body);

    for (const v of [v1, v2]) await single(v, marker(v, 'ddl'));
    const check = async (source: Wal): Promise<void> => {
      for (const v of [v1, v2]) {
        const what = `${pchannel}: ${source.mode} reader of ${v}`;
        const { messages } = await readToMarker(ctx, source, { policy: { kind: 'all' }, vchannel: v }, 'ddl', what);
        assertStrictlyIncreasingTt(messages, what);
        assertDelivered(messages, expected.entries(v), what);
      }
    };
    await check(wal);
    await check(await ctx.openReadOnlyBeside(wal));
  });
}
