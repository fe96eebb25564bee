import assert from 'node:assert/strict';
import { MessageType } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import type { Wal } from '@streamsvc/wal-core';
import { expectStreamingErrorThrown } from '../../support/expect-rejection.js';
import { assertDelivered, assertStrictlyIncreasingTt } from '../delivery-assertions.js';
import { ExpectedLog } from '../expected-log.js';
import type { Appended } from '../expected-log.js';
import {
  beginTxn,
  commitTxn,
  createCollection,
  data,
  insert,
  keyOfDelivered,
  rollbackTxn,
  vchannelOf,
} from '../messages.js';
import { readUntil } from '../readers.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

const SYSTEM_TYPES = [
  MessageType.TimeTick,
  MessageType.BeginTxn,
  MessageType.CommitTxn,
  MessageType.RollbackTxn,
  MessageType.Txn,
] as const;

/**
 * `message-type-filter` (Milvus `DeliverFilterMessageType`): a reader filtering on `[Insert]` gets the
 * Inserts, every committed transaction as a Txn (whatever its body holds) and the TimeTicks, and none
 * of the Data or DDL messages; filtering on `[Data]` is the mirror image. On read-write and read-only
 * WALs alike. A filter naming a system type (TimeTick, BeginTxn, CommitTxn, RollbackTxn, Txn) or no
 * type at all makes `read` throw INVALID_ARGUMENT, and the WAL reads on.
 */
export async function messageTypeFilter(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const v = vchannelOf(pchannel, 1n);
    const expected = new ExpectedLog();
    const wal = await ctx.openWal({ opener: await ctx.createOpener(), pchannel, term: 1n });
    const append = async (message: MutableMessage): Promise<Appended & { txnId: bigint }> => {
      const result = await ctx.within(wal.append(message), `${pchannel}: append`);
      return { message, timeTick: result.timeTick, txnId: result.txnContext?.txnId ?? 0n };
    };
    const single = async (message: MutableMessage): Promise<void> => expected.single(v, await append(message));
    const txn = async (
      key: string,
      body: ((k: string) => MutableMessage)[],
      end: 'commit' | 'rollback',
    ): Promise<void> => {
      const { txnId } = await append(beginTxn(v, 10_000, `${key}/begin`));
      const parts: Appended[] = [];
      for (const [i, build] of body.entries())
        parts.push(await append(build(`${key}/b${i}`).withTxnContext({ txnId })));
      if (end === 'rollback') return void (await append(rollbackTxn(v, txnId, `${key}/rollback`)));
      expected.txn(v, await append(commitTxn(v, txnId, `${key}/commit`)), parts);
    };
    await single(createCollection(v, `${v}/create`));
    await single(insert(v, 1n, 'a0'));
    await single(data(v, 'd0'));
    await txn('mixed', [(k) => insert(v, 1n, k), (k) => data(v, k)], 'commit');
    await txn('data-only', [(k) => data(v, k)], 'commit');
    await txn('insert-only', [(k) => insert(v, 2n, k)], 'commit');
    await txn('rolled-back', [(k) => insert(v, 1n, k)], 'rollback');
    await single(insert(v, 2n, 'a1'));
    await single(data(v, 'd1'));
    await single(data(v, 'end/data'));
    await single(insert(v, 1n, 'end/insert'));

    const check = async (source: Wal): Promise<void> => {
      for (const t of SYSTEM_TYPES) {
        expectStreamingErrorThrown(
          `${pchannel}: ${source.mode} read filtering on [Insert, ${t}]`,
          () =>
            ctx.read(source, {
              policy: { kind: 'all' },
              filters: [{ kind: 'messageType', types: [MessageType.Insert, t] }],
            }),
          'INVALID_ARGUMENT',
        );
      }
      expectStreamingErrorThrown(
        `${pchannel}: ${source.mode} read filtering on no type`,
        () => ctx.read(source, { policy: { kind: 'all' }, filters: [{ kind: 'messageType', types: [] }] }),
        'INVALID_ARGUMENT',
      );
      for (const [type, keep, endKey] of [
        ['Insert', MessageType.Insert, 'end/insert'],
        ['Data', MessageType.Data, 'end/data'],
      ] as const) {
        const what = `${pchannel}: ${source.mode} reader filtering on [${type}]`;
        const scanner = ctx.read(source, {
          policy: { kind: 'all' },
          vchannel: v,
          filters: [{ kind: 'messageType', types: [keep] }],
        });
        const messages = await readUntil(ctx, scanner, (m) => keyOfDelivered(m) === endKey, what);
        await scanner.close();
        const stop = expected.entries(v).find((e) => e.key === endKey)!.timeTick;
        const wanted = expected
          .entries(v)
          .filter((e) => (e.typeName === type || e.typeName === 'Txn') && e.timeTick <= stop);
        assertStrictlyIncreasingTt(messages, what);
        assertDelivered(messages, wanted, what);
        if (!messages.some((m) => m.type === MessageType.TimeTick))
          assert.fail(`${what}: delivered no TimeTick; system messages are never filtered`);
      }
    };
    await check(wal);
    await check(await ctx.openReadOnlyBeside(wal));
  });
}
