import assert from 'node:assert/strict';
import { StreamingError } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import type { AppendResult, Wal } from '@streamsvc/wal-core';
import { describeError } from '../../support/describe-error.js';
import { expectRejection, expectStreamingError } from '../../support/expect-rejection.js';
import { sleep } from '../../support/within.js';
import { assertDelivered, assertStrictlyIncreasingTt } from '../delivery-assertions.js';
import { ExpectedLog } from '../expected-log.js';
import type { Appended } from '../expected-log.js';
import {
  beginTxn,
  commitTxn,
  createCollection,
  createPartition,
  data,
  dropCollection,
  dropPartition,
  insert,
  KEY,
  marker,
  rollbackTxn,
  vchannelOf,
} from '../messages.js';
import { readToMarker } from '../readers.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

/** Keepalive of the transaction left to expire across the reopen. */
const SHORT_KEEPALIVE_MS = 150;

/**
 * `recovery-after-reopen`: what a WAL enforces survives a new owner. Term 1 creates three collections,
 * drops one, creates a partition on one and drops a partition of another, rolls one transaction back,
 * has one failed by an exclusive DDL, and leaves two open — one with a long keepalive, one that
 * expires before term 2 opens — then closes. Term 2 (a new
 * `Wal.open` through a new opener) must accept on live collections and created partitions, refuse the
 * dropped collection (VCHANNEL_DROPPED), the dropped partition (PARTITION_NOT_EXIST), a second create
 * of an existing partition or collection (INVALID_ARGUMENT); take another body for the long-lived
 * transaction and commit it, delivered whole (both bodies, across the terms) to read-write and
 * read-only readers and to a reader resuming at the commit's last-confirmed id; refuse the commit of
 * the rolled-back and the failed one (INVALID_TRANSACTION_STATE) and of the expired one
 * (TRANSACTION_EXPIRED or INVALID_TRANSACTION_STATE), none of them ever delivered. Term 3 then no
 * longer knows the committed transaction.
 */
export async function recoveryAfterReopen(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const [v1, v2, v3] = [1n, 2n, 3n].map((c) => vchannelOf(pchannel, c)) as [string, string, string];
    const expected = new ExpectedLog();
    const append = async (
      wal: Wal,
      vchannel: string | undefined,
      message: MutableMessage,
    ): Promise<Appended & { txnId: bigint; result: AppendResult }> => {
      const key = message.userProperties.get(KEY)!;
      const result = await ctx
        .within(wal.append(message), `${pchannel} term ${wal.term}: append of ${key}`)
        .catch((e: unknown) => {
          throw new Error(`${pchannel} term ${wal.term}: append of ${key} failed: ${describeError(e)}`, { cause: e });
        });
      const appended = { message, timeTick: result.timeTick, txnId: result.txnContext?.txnId ?? 0n, result };
      if (vchannel !== undefined) expected.single(vchannel, appended);
      return appended;
    };

    const first = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 1n });
    for (const v of [v1, v2, v3]) await append(first, v, createCollection(v, `${v}/create`));
    await append(first, v3, dropCollection(v3, `${v3}/drop`));
    await append(first, v1, createPartition(v1, 5n, 'p5/create'));
    await append(first, v2, dropPartition(v2, 2n, 'p2/drop'));
    const failedByDdl = await append(first, undefined, beginTxn(v2, 60_000, 'ddl-failed/begin'));
    await append(first, undefined, data(v2, 'ddl-failed/b0').withTxnContext({ txnId: failedByDdl.txnId }));
    await append(first, v2, createPartition(v2, 6n, 'p6/create'));
    const rolledBack = await append(first, undefined, beginTxn(v1, 60_000, 'rolled-back/begin'));
    await append(first, undefined, rollbackTxn(v1, rolledBack.txnId, 'rolled-back/rollback'));
    const kept = await append(first, undefined, beginTxn(v1, 60_000, 'kept/begin'));
    const keptBody: Appended[] = [
      await append(first, undefined, insert(v1, 5n, 'kept/b0').withTxnContext({ txnId: kept.txnId })),
    ];
    const lapsing = await append(first, undefined, beginTxn(v2, SHORT_KEEPALIVE_MS, 'lapsing/begin'));
    await ctx.within(first.close(), `${pchannel}: close of the term 1 WAL`);
    await sleep(SHORT_KEEPALIVE_MS * 2);

    const second = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 2n });
    const what = `${pchannel} after reopening under term 2`;
    await append(second, v1, insert(v1, 5n, 'v1/p5'));
    await append(second, v1, insert(v1, 1n, 'v1/p1'));
    await append(second, v2, insert(v2, 1n, 'v2/p1'));
    await expectStreamingError(
      `${what}: Insert into the dropped partition`,
      () => second.append(insert(v2, 2n, 'x/p2')),
      'PARTITION_NOT_EXIST',
      ctx.waitTimeoutMs,
    );
    await expectStreamingError(
      `${what}: CreatePartition of an existing partition`,
      () => second.append(createPartition(v1, 5n, 'x/p5')),
      'INVALID_ARGUMENT',
      ctx.waitTimeoutMs,
    );
    await expectStreamingError(
      `${what}: CreateCollection of an existing collection`,
      () => second.append(createCollection(v1, 'x/c1')),
      'INVALID_ARGUMENT',
      ctx.waitTimeoutMs,
    );
    await expectStreamingError(
      `${what}: Insert into the dropped collection`,
      () => second.append(insert(v3, 1n, 'x/v3')),
      'VCHANNEL_DROPPED',
      ctx.waitTimeoutMs,
    );
    await expectStreamingError(
      `${what}: Data on a vchannel never created`,
      () => second.append(data(vchannelOf(pchannel, 8n), 'x/v8')),
      'VCHANNEL_NOT_EXIST',
      ctx.waitTimeoutMs,
    );

    keptBody.push(await append(second, undefined, data(v1, 'kept/b1').withTxnContext({ txnId: kept.txnId })));
    const commit = await append(second, undefined, commitTxn(v1, kept.txnId, 'kept/commit'));
    expected.txn(v1, commit, keptBody);
    for (const [name, message] of [
      [
        'commit of the txn an exclusive DDL failed under term 1',
        commitTxn(v2, failedByDdl.txnId, 'x/ddl-failed-commit'),
      ],
      ['commit of the txn rolled back under term 1', commitTxn(v1, rolledBack.txnId, 'x/rolled-back-commit')],
    ] as const) {
      await expectStreamingError(
        `${what}: ${name}`,
        () => second.append(message),
        'INVALID_TRANSACTION_STATE',
        ctx.waitTimeoutMs,
      );
    }
    for (const [name, message] of [
      ['commit', commitTxn(v2, lapsing.txnId, 'x/lapsing-commit')],
      ['body', data(v2, 'x/lapsing-body').withTxnContext({ txnId: lapsing.txnId })],
    ] as const) {
      const e = await expectRejection(
        `${what}: ${name} of the txn that expired across the reopen`,
        () => second.append(message),
        ctx.waitTimeoutMs,
      );
      if (!StreamingError.is(e, 'TRANSACTION_EXPIRED') && !StreamingError.is(e, 'INVALID_TRANSACTION_STATE')) {
        assert.fail(
          `${what}: ${name} of the expired txn rejected with ${describeError(e)}; expected TRANSACTION_EXPIRED or INVALID_TRANSACTION_STATE`,
        );
      }
    }
    for (const v of [v1, v2]) await append(second, v, marker(v, 'r2'));

    const check = async (source: Wal): Promise<void> => {
      for (const v of [v1, v2]) {
        const who = `${what}, ${source.mode} reader of ${v}`;
        const { messages } = await readToMarker(ctx, source, { policy: { kind: 'all' }, vchannel: v }, 'r2', who);
        assertStrictlyIncreasingTt(messages, who);
        assertDelivered(messages, expected.entries(v), who);
      }
    };
    await check(second);
    // The transaction begun under term 1 pins the resume point of its commit at or before its BeginTxn.
    const resumed = `${what}, reader resuming at the recovered commit's last-confirmed id`;
    const fromCommit = await readToMarker(
      ctx,
      second,
      {
        policy: { kind: 'startFrom', id: commit.result.lastConfirmed },
        vchannel: v1,
        filters: [{ kind: 'timeTickGte', tt: commit.timeTick }],
      },
      'r2',
      resumed,
    );
    assertDelivered(
      fromCommit.messages,
      expected.entries(v1).filter((e) => e.timeTick >= commit.timeTick),
      resumed,
    );
    await check(await ctx.openReadOnlyBeside(second));
    await ctx.within(second.close(), `${pchannel}: close of the term 2 WAL`);

    const third = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 3n });
    await expectStreamingError(
      `${pchannel} term 3: a second commit of the txn committed under term 2`,
      () => third.append(commitTxn(v1, kept.txnId, 'x/recommit')),
      'INVALID_TRANSACTION_STATE',
      ctx.waitTimeoutMs,
    );
    await append(third, v1, insert(v1, 5n, 'v1/p5/term-3'));
    await expectStreamingError(
      `${pchannel} term 3: Insert into the dropped collection`,
      () => third.append(insert(v3, 1n, 'x/v3/term-3')),
      'VCHANNEL_DROPPED',
      ctx.waitTimeoutMs,
    );
  });
}
