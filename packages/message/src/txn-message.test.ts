import { expectMessageError, insertMessage, memoryIds, OTHER_VCHANNEL, VCHANNEL } from '../test/support/fixtures.js';
import { counterMessageIdCodec } from './counter-message-id.js';
import type { ImmutableMessage } from './immutable-message.js';
import { MessageBuilder } from './message-builder.js';
import type { MutableMessage } from './mutable-message.js';
import { MessageType } from './message-type.js';
import { ImmutableTxnMessage } from './txn-message.js';
import type { AnyImmutableMessage } from './txn-message.js';

const TXN = { txnId: 77n, keepaliveMs: 1000 };
let nextOffset = 0n;

function store(msg: MutableMessage, tt: bigint, lc = 0n): ImmutableMessage {
  return msg.withTimeTick(tt).withLastConfirmed(memoryIds.of(lc)).intoImmutable(memoryIds.of(nextOffset++));
}

function parts(vchannel = VCHANNEL) {
  const begin = store(
    MessageBuilder.beginTxn().header({ keepaliveMs: 1000 }).vchannel(vchannel).build().withTxnContext(TXN),
    10n,
  );
  const body = [
    store(insertMessage(vchannel).withTxnContext(TXN), 11n),
    store(
      MessageBuilder.data(new Uint8Array([1]))
        .vchannel(vchannel)
        .build()
        .withTxnContext(TXN),
      12n,
    ),
  ];
  const commit = store(MessageBuilder.commitTxn().vchannel(vchannel).build().withTxnContext(TXN), 20n, 4n);
  return { begin, body, commit };
}

describe('ImmutableTxnMessage', () => {
  it('takes time tick, last-confirmed id, id and txn context from the commit', () => {
    const { begin, body, commit } = parts();
    const txn = ImmutableTxnMessage.assemble(begin, body, commit);
    expect(txn.type).toBe(MessageType.Txn);
    expect(txn.timeTick).toBe(20n);
    expect(txn.lastConfirmed.toString()).toBe('v1:4');
    expect(txn.id.equals(commit.id)).toBe(true);
    expect(txn.txnContext).toEqual(TXN);
    expect(txn.vchannel).toBe(VCHANNEL);
    expect(txn.walName).toBe('memory');
    expect(txn.begin).toBe(begin);
    expect(txn.commit).toBe(commit);
    expect(txn.estimateSize()).toBe([begin, ...body, commit].reduce((n, m) => n + m.estimateSize(), 0));
  });

  it("re-stamps every body message with the commit's time tick and last-confirmed id, keeping its own id", () => {
    const { begin, body, commit } = parts();
    const txn = ImmutableTxnMessage.assemble(begin, body, commit);
    expect(txn.body.map((m) => m.timeTick)).toEqual([20n, 20n]);
    expect(txn.body.map((m) => m.lastConfirmed.toString())).toEqual(['v1:4', 'v1:4']);
    expect(txn.body.map((m) => m.properties.get('_tt'))).toEqual(['k', 'k']);
    expect(txn.body.map((m) => m.id.toString())).toEqual(body.map((m) => m.id.toString()));
    expect(body.map((m) => m.timeTick)).toEqual([11n, 12n]);
    expect(txn.body[0]?.type).toBe(MessageType.Insert);
  });

  it('replaces a body message _lcs with the commit last-confirmed id', () => {
    const { begin, commit } = parts();
    const self = MessageBuilder.data(new Uint8Array(1))
      .vchannel(VCHANNEL)
      .build()
      .withTxnContext(TXN)
      .withTimeTick(11n)
      .withLastConfirmedSelf();
    const txn = ImmutableTxnMessage.assemble(begin, [self.intoImmutable(memoryIds.of(999n))], commit);
    expect(txn.body[0]?.properties.has('_lcs')).toBe(false);
    expect(txn.body[0]?.lastConfirmed.toString()).toBe('v1:4');
  });

  it('is told apart from single messages by its type', () => {
    const { begin, body, commit } = parts();
    const delivered: AnyImmutableMessage[] = [
      ImmutableTxnMessage.assemble(begin, body, commit),
      commit as AnyImmutableMessage,
    ];
    const kinds = delivered.map((m) => (m.type === MessageType.Txn ? `txn of ${m.body.length}` : m.typeName));
    expect(kinds).toEqual(['txn of 2', 'CommitTxn']);
  });

  it('rejects parts in the wrong roles (INVALID_MESSAGE)', () => {
    const { begin, body, commit } = parts();
    expect(expectMessageError(() => ImmutableTxnMessage.assemble(commit, body, commit), 'INVALID_MESSAGE')).toContain(
      'starts with BeginTxn',
    );
    expect(expectMessageError(() => ImmutableTxnMessage.assemble(begin, body, begin), 'INVALID_MESSAGE')).toContain(
      'ends with CommitTxn',
    );
    expect(expectMessageError(() => ImmutableTxnMessage.assemble(begin, [begin], commit), 'INVALID_MESSAGE')).toContain(
      'cannot be part of a transaction',
    );
  });

  it('rejects parts of another txn, without txn context or on another vchannel (INVALID_MESSAGE)', () => {
    const { begin, body, commit } = parts();
    const otherTxn = store(
      MessageBuilder.data(new Uint8Array(1)).vchannel(VCHANNEL).build().withTxnContext({ txnId: 78n }),
      13n,
    );
    expect(
      expectMessageError(() => ImmutableTxnMessage.assemble(begin, [otherTxn], commit), 'INVALID_MESSAGE'),
    ).toContain('txn 78');
    const noTxn = store(MessageBuilder.data(new Uint8Array(1)).vchannel(VCHANNEL).build(), 13n);
    expect(expectMessageError(() => ImmutableTxnMessage.assemble(begin, [noTxn], commit), 'INVALID_MESSAGE')).toContain(
      'no txn context',
    );
    const elsewhere = parts(OTHER_VCHANNEL);
    expect(
      expectMessageError(() => ImmutableTxnMessage.assemble(begin, body, elsewhere.commit), 'INVALID_MESSAGE'),
    ).toContain(OTHER_VCHANNEL);
  });

  it('rejects parts stored by different wals (WAL_MISMATCH)', () => {
    const { begin, body } = parts();
    const kafka = counterMessageIdCodec('kafka');
    const foreignCommit = MessageBuilder.commitTxn()
      .vchannel(VCHANNEL)
      .build()
      .withTxnContext(TXN)
      .withTimeTick(20n)
      .withLastConfirmed(kafka.of(1n))
      .intoImmutable(kafka.of(2n));
    expectMessageError(() => ImmutableTxnMessage.assemble(begin, body, foreignCommit), 'WAL_MISMATCH');
  });
});
