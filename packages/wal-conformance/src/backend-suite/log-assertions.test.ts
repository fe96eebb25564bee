import { counterMessageIdCodec } from '@streamsvc/message';
import type { ImmutableMessage } from '@streamsvc/message';
import { assertSameLog, assertStrictlyIncreasing } from './log-assertions.js';
import { dataMessage, writtenRecord } from './records.js';
import type { WrittenRecord } from './records.js';

const ids = counterMessageIdCodec('test');
const pchannel = 'la-dml_0';

function stored(n: number): { written: WrittenRecord[]; read: ImmutableMessage[] } {
  const written: WrittenRecord[] = [];
  const read: ImmutableMessage[] = [];
  for (let i = 0; i < n; i++) {
    const stamp = { timeTick: BigInt(100 + i), term: 1n, lastConfirmed: undefined };
    const message = dataMessage(pchannel, `k${i}`, stamp);
    written.push(writtenRecord(message, ids.of(BigInt(i)), stamp));
    read.push(message.clone().intoImmutable(ids.of(BigInt(i))));
  }
  return { written, read };
}

describe('assertSameLog', () => {
  it('accepts a read equal to what was written', () => {
    const { written, read } = stored(5);
    expect(() => assertSameLog(read, written, 'r')).not.toThrow();
  });

  it('names the missing, unexpected and duplicated keys when the counts differ', () => {
    const { written, read } = stored(5);
    const other = stored(7).read[6]!;
    expect(() => assertSameLog([read[0]!, read[0]!, read[2]!, other], written, 'reader 1')).toThrow(
      'reader 1: read 4 records but 5 were written; missing [k1, k3, k4], unexpected [k6], duplicated [k0]',
    );
  });

  it('names the first record out of place when the counts agree', () => {
    const { written, read } = stored(3);
    expect(() => assertSameLog([read[0]!, read[2]!, read[1]!], written, 'r')).toThrow(
      'r: record 1: expected key k1 (id v1:1), got k2 (id v1:2)',
    );
  });

  it('notices a record read back at another id than append returned', () => {
    const { written, read } = stored(2);
    const moved = dataMessage(pchannel, 'k1', { timeTick: 101n, term: 1n, lastConfirmed: undefined }).intoImmutable(
      ids.of(9n),
    );
    expect(() => assertSameLog([read[0]!, moved], written, 'r')).toThrow(
      'r: record 1: k1 was written at id v1:1 but read at v1:9',
    );
  });

  it('notices a changed time tick', () => {
    const { written } = stored(1);
    const changed = dataMessage(pchannel, 'k0', { timeTick: 5n, term: 1n, lastConfirmed: undefined }).intoImmutable(
      ids.of(0n),
    );
    expect(() => assertSameLog([changed], written, 'r')).toThrow(
      'r: record 0: k0 time tick 5 differs from the written 100',
    );
  });
});

describe('assertStrictlyIncreasing', () => {
  it('accepts increasing ids and names the first pair that is not', () => {
    expect(() => assertStrictlyIncreasing([{ id: ids.of(1n) }, { id: ids.of(2n) }], 'r')).not.toThrow();
    expect(() => assertStrictlyIncreasing([{ id: ids.of(1n) }, { id: ids.of(3n) }, { id: ids.of(3n) }], 'r')).toThrow(
      'r: record 2 (id v1:3) does not follow record 1 (id v1:3); a read must be strictly increasing by id',
    );
  });
});
