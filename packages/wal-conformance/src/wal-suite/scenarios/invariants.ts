import assert from 'node:assert/strict';
import { MessageBuilder, pchannelName, parsePChannel } from '@streamsvc/message';
import type { MutableMessage, StreamingErrorCode } from '@streamsvc/message';
import type { Wal } from '@streamsvc/wal-core';
import { expectStreamingError, expectStreamingErrorThrown } from '../../support/expect-rejection.js';
import {
  beginTxn,
  collectionIdOf,
  commitTxn,
  createCollection,
  createPartition,
  data,
  deleteRows,
  dropCollection,
  dropPartition,
  insert,
  KEY,
  rollbackTxn,
  vchannelOf,
} from '../messages.js';
import { storedUserRecords } from '../stored-records.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';

/** The size limit the scenario configures (the smallest the WAL accepts is 1 KiB). */
const MAX_MESSAGE_BYTES = 4096;
/** The keepalive the scenario configures for a BeginTxn that asks for 0. */
const DEFAULT_KEEPALIVE_MS = 100;

/** A WAL whose accepted appends are counted, and a check that each refusal leaves it serving. */
class Refusals {
  readonly accepted: string[] = [];
  #serving = 0;

  constructor(
    private readonly ctx: WalScenarioRuntime<unknown>,
    private readonly wal: Wal,
    private readonly live: string,
  ) {}

  async accept(message: MutableMessage): Promise<bigint> {
    const key = message.userProperties.get(KEY)!;
    const result = await this.ctx.within(this.wal.append(message), `${this.wal.pchannel}: append of ${key}`);
    this.accepted.push(key);
    return result.txnContext?.txnId ?? 0n;
  }

  /** Expects `message` refused with `code` (and, when given, naming `mentions`); then appends to show the WAL still serves. */
  async refuse(what: string, message: MutableMessage, code: StreamingErrorCode, mentions?: string): Promise<void> {
    const label = `${this.wal.pchannel}: ${what}`;
    const e = await expectStreamingError(label, () => this.wal.append(message), code, this.ctx.waitTimeoutMs);
    if (mentions !== undefined && !e.message.includes(mentions)) {
      assert.fail(`${label}: the ${code} error does not name ${mentions}: ${e.message}`);
    }
    await this.accept(data(this.live, `serving/${this.#serving++}`));
  }
}

/**
 * `invariants` (DESIGN §3): every append that breaks a rule is refused with its code, writes nothing —
 * the backend, read directly, holds exactly the accepted appends — and the WAL keeps serving. Rules:
 * nothing but CreateCollection before it (VCHANNEL_NOT_EXIST); nothing at all after DropCollection
 * (VCHANNEL_DROPPED, naming the vchannel); an Insert names exactly one partition (INVALID_ARGUMENT),
 * which exists (PARTITION_NOT_EXIST); a txn's messages stay on its vchannel (INVALID_ARGUMENT); a
 * commit after the keepalive (TRANSACTION_EXPIRED) or of an unknown txn (INVALID_TRANSACTION_STATE) is
 * refused (a BeginTxn asking for keepalive 0 gets the configured default); the size limit,
 * self-controlled types, foreign vchannels, stamps only the WAL may set and appends on a read-only WAL
 * are INVALID_ARGUMENT; after close every append is ON_SHUTDOWN.
 */
export async function invariants(ctx: WalScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const [live, other, dropped, never] = [1n, 2n, 3n, 9n].map((c) => vchannelOf(pchannel, c)) as [
      string,
      string,
      string,
      string,
    ];
    const opener = await ctx.createOpener();
    const wal = await ctx.openWal({
      opener,
      pchannel,
      term: 1n,
      config: { maxMessageBytes: MAX_MESSAGE_BYTES, txnKeepaliveMs: DEFAULT_KEEPALIVE_MS },
    });
    const r = new Refusals(ctx, wal, live);

    for (const v of [live, other, dropped]) await r.accept(createCollection(v, `${v}/create`));
    await r.refuse('Insert before CreateCollection', insert(never, 1n, 'x/insert'), 'VCHANNEL_NOT_EXIST', never);
    await r.refuse('Data before CreateCollection', data(never, 'x/data'), 'VCHANNEL_NOT_EXIST');
    await r.refuse('BeginTxn before CreateCollection', beginTxn(never, 1000, 'x/begin'), 'VCHANNEL_NOT_EXIST');
    await r.refuse('CreatePartition before CreateCollection', createPartition(never, 5n, 'x/cp'), 'VCHANNEL_NOT_EXIST');
    await r.refuse('a second CreateCollection', createCollection(live, 'x/create-again'), 'INVALID_ARGUMENT');

    const noPartition = insert(live, 1n, 'x/0-partitions').overwriteHeader({
      collectionId: collectionIdOf(live),
      partitions: [],
    });
    await r.refuse('an Insert naming no partition', noPartition, 'INVALID_ARGUMENT');
    const twoPartitions = insert(live, 1n, 'x/2-partitions').overwriteHeader({
      collectionId: collectionIdOf(live),
      partitions: [
        { partitionId: 1n, rows: 1 },
        { partitionId: 2n, rows: 0 },
      ],
    });
    await r.refuse('an Insert naming two partitions', twoPartitions, 'INVALID_ARGUMENT');
    await r.refuse('an Insert into an unknown partition', insert(live, 77n, 'x/p77'), 'PARTITION_NOT_EXIST');
    await r.refuse(
      'a DropPartition of an unknown partition',
      dropPartition(live, 77n, 'x/dp77'),
      'PARTITION_NOT_EXIST',
    );
    const wrongCollection = insert(live, 1n, 'x/other-collection').overwriteHeader({
      collectionId: 4242n,
      partitions: [{ partitionId: 1n, rows: 1 }],
    });
    await r.refuse('an Insert naming another collection', wrongCollection, 'INVALID_ARGUMENT');

    const txnId = await r.accept(beginTxn(live, 60_000, 'txn/begin'));
    await r.accept(data(live, 'txn/b0').withTxnContext({ txnId }));
    await r.refuse(
      'a txn body on another vchannel than its BeginTxn',
      data(other, 'x/elsewhere').withTxnContext({ txnId }),
      'INVALID_ARGUMENT',
    );
    await r.refuse(
      'a commit on another vchannel than its BeginTxn',
      commitTxn(other, txnId, 'x/commit-elsewhere'),
      'INVALID_ARGUMENT',
    );
    await r.refuse(
      'a BeginTxn carrying a txn context',
      beginTxn(live, 1000, 'x/begin-ctx').withTxnContext({ txnId: 5n }),
      'INVALID_ARGUMENT',
    );
    await r.refuse(
      'a CommitTxn without a txn context',
      MessageBuilder.commitTxn()
        .vchannel(live)
        .properties({ [KEY]: 'x/no-ctx' })
        .build(),
      'INVALID_ARGUMENT',
    );
    await r.refuse(
      'a commit of a txn that was never begun',
      commitTxn(live, 4_242_424n, 'x/unknown-commit'),
      'INVALID_TRANSACTION_STATE',
    );
    await r.refuse(
      'a body of a txn that was never begun',
      data(live, 'x/unknown-body').withTxnContext({ txnId: 4_242_424n }),
      'INVALID_TRANSACTION_STATE',
    );

    const shortLived = await r.accept(beginTxn(live, 50, 'short/begin'));
    const defaulted = await r.accept(beginTxn(live, 0, 'default/begin'));
    await new Promise((resolve) => setTimeout(resolve, DEFAULT_KEEPALIVE_MS * 2.5));
    await r.refuse(
      'a body of an expired txn',
      data(live, 'x/expired-body').withTxnContext({ txnId: shortLived }),
      'TRANSACTION_EXPIRED',
    );
    await r.refuse(
      'a commit of an expired txn',
      commitTxn(live, shortLived, 'x/expired-commit'),
      'TRANSACTION_EXPIRED',
    );
    await r.refuse(
      'a rollback of an expired txn',
      rollbackTxn(live, shortLived, 'x/expired-rollback'),
      'TRANSACTION_EXPIRED',
    );
    await r.refuse(
      'a commit of a txn that asked for keepalive 0 (the configured default) and outlived it',
      commitTxn(live, defaulted, 'x/default-commit'),
      'TRANSACTION_EXPIRED',
    );

    await r.refuse(
      `a message over ${MAX_MESSAGE_BYTES} bytes`,
      data(live, 'x/too-big', {}, MAX_MESSAGE_BYTES + 100),
      'INVALID_ARGUMENT',
    );
    const ids = { collectionId: collectionIdOf(live), partitionId: 1n, segmentId: 1n };
    const props = (k: string) => ({ [KEY]: k });
    await r.refuse(
      'a Flush from a client',
      MessageBuilder.flush().header(ids).vchannel(live).properties(props('x/flush')).build(),
      'INVALID_ARGUMENT',
    );
    await r.refuse(
      'a CreateSegment from a client',
      MessageBuilder.createSegment().header(ids).vchannel(live).properties(props('x/seg')).build(),
      'INVALID_ARGUMENT',
    );
    await r.refuse(
      'a TimeTick from a client',
      MessageBuilder.timeTick().vchannel(live).properties(props('x/tick')).build(),
      'INVALID_ARGUMENT',
    );
    const foreign = vchannelOf(pchannelName(`${parsePChannel(pchannel).cluster}x`, 0), 1n);
    await r.refuse('a message for a vchannel of another pchannel', data(foreign, 'x/foreign'), 'INVALID_ARGUMENT');
    await r.refuse(
      'a message already stamped with a time tick',
      data(live, 'x/stamped-tt').withTimeTick(5n),
      'INVALID_ARGUMENT',
    );
    await r.refuse(
      'a message already stamped with a WAL term',
      data(live, 'x/stamped-term').withWalTerm(7n),
      'INVALID_ARGUMENT',
    );

    const doomed = await r.accept(beginTxn(dropped, 60_000, 'doomed/begin'));
    await r.accept(dropCollection(dropped, `${dropped}/drop`));
    const afterDrop: [string, MutableMessage][] = [
      ['Insert', insert(dropped, 1n, 'x/d-insert')],
      ['Data', data(dropped, 'x/d-data')],
      ['Delete', deleteRows(dropped, 1n, 'x/d-delete')],
      ['CreatePartition', createPartition(dropped, 5n, 'x/d-cp')],
      ['DropPartition', dropPartition(dropped, 1n, 'x/d-dp')],
      ['DropCollection', dropCollection(dropped, 'x/d-drop')],
      ['CreateCollection', createCollection(dropped, 'x/d-create')],
      ['BeginTxn', beginTxn(dropped, 1000, 'x/d-begin')],
      ['a txn body', data(dropped, 'x/d-body').withTxnContext({ txnId: doomed })],
      ['CommitTxn', commitTxn(dropped, doomed, 'x/d-commit')],
      ['RollbackTxn', rollbackTxn(dropped, doomed, 'x/d-rollback')],
    ];
    for (const [name, message] of afterDrop)
      await r.refuse(`${name} after DropCollection`, message, 'VCHANNEL_DROPPED', dropped);

    await r.accept(data(live, 'last'));
    await ctx.within(wal.close(), `${pchannel}: close`);
    await expectStreamingError(
      `${pchannel}: append after close`,
      () => wal.append(data(live, 'x/closed')),
      'ON_SHUTDOWN',
      ctx.waitTimeoutMs,
    );
    await expectStreamingError(
      `${pchannel}: BeginTxn after close`,
      () => wal.append(beginTxn(live, 1000, 'x/closed-begin')),
      'ON_SHUTDOWN',
      ctx.waitTimeoutMs,
    );
    expectStreamingErrorThrown(
      `${pchannel}: read after close`,
      () => wal.read({ policy: { kind: 'all' } }),
      'ON_SHUTDOWN',
    );
    const readOnly = await ctx.openReadOnlyWal({ opener: await ctx.createOpener(), pchannel, term: 1n });
    await expectStreamingError(
      `${pchannel}: an append on a read-only WAL`,
      () => readOnly.append(data(live, 'x/read-only')),
      'INVALID_ARGUMENT',
      ctx.waitTimeoutMs,
    );

    const stored = await storedUserRecords(ctx, await ctx.createOpener(), pchannel, 1n, 'last');
    assert.deepEqual(stored, r.accepted, `${pchannel}: the backend must hold exactly the accepted appends, in order`);
  });
}
