import {
  counterMessageIdCodec,
  encodeImmutableMessage,
  MessageBuilder,
  MessageIdCodecs,
  MessageType,
} from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';

import { decodeConsumed } from './consumed-message.js';

const ids = counterMessageIdCodec('memory');
const codecs = MessageIdCodecs.of([ids]);
const v = 'c-dml_0_1v0';

/** The wire bytes of `m` as the WAL would store it at `offset` with time tick `tt`. */
function stored(m: MutableMessage, offset: bigint, tt: bigint): Buffer {
  const immutable = m.withTimeTick(tt).withWalTerm(1n).withLastConfirmed(ids.of(0n)).intoImmutable(ids.of(offset));
  return Buffer.from(encodeImmutableMessage(immutable));
}

describe('decodeConsumed', () => {
  it('decodes a single message', () => {
    const m = decodeConsumed(
      {
        message: {
          $case: 'single',
          single: stored(MessageBuilder.data(Buffer.from('hi')).vchannel(v).build(), 3n, 10n),
        },
      },
      codecs,
    );
    expect(m.type).toBe(MessageType.Data);
    expect(m.id.toString()).toBe('v1:3');
  });

  it('assembles a transaction at its commit', () => {
    const ctx = { txnId: 5n, keepaliveMs: 1000 };
    const begin = MessageBuilder.beginTxn().vchannel(v).build().withTxnContext(ctx);
    const body = MessageBuilder.data(Buffer.from('b')).vchannel(v).build().withTxnContext(ctx);
    const commit = MessageBuilder.commitTxn().vchannel(v).build().withTxnContext(ctx);
    const txn = decodeConsumed(
      {
        message: {
          $case: 'txn',
          txn: { begin: stored(begin, 0n, 1n), body: [stored(body, 1n, 2n)], commit: stored(commit, 2n, 3n) },
        },
      },
      codecs,
    );
    expect(txn.type).toBe(MessageType.Txn);
    expect(txn.timeTick).toBe(3n);
    expect(txn.id.toString()).toBe('v1:2');
  });

  it('reports undecodable bytes and unknown WALs as non-retriable UNKNOWN', () => {
    expect(() => decodeConsumed({ message: { $case: 'single', single: Buffer.from([1, 2, 3]) } }, codecs)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN', retriable: false }),
    );
    const kafkaOnly = MessageIdCodecs.of([counterMessageIdCodec('kafka')]);
    const bytes = stored(MessageBuilder.data(Buffer.from('x')).vchannel(v).build(), 1n, 1n);
    expect(() => decodeConsumed({ message: { $case: 'single', single: bytes } }, kafkaOnly)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN', message: expect.stringContaining('memory') }),
    );
    expect(() => decodeConsumed({ message: undefined }, codecs)).toThrow(expect.objectContaining({ code: 'UNKNOWN' }));
  });
});
