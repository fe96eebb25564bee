import fc from 'fast-check';
import { expectMessageError } from '../test/support/fixtures.js';
import { counterMessageIdCodec } from './counter-message-id.js';
import { segmentEntryMessageIdCodec } from './segment-entry-message-id.js';

const codec = counterMessageIdCodec('kafka');
const offset = fc.bigInt({ min: 0n, max: (1n << 63n) - 1n });

describe('counter message ids', () => {
  it('have the stable version-1 string form "v1:<decimal offset>"', () => {
    expect(codec.of(0n).toString()).toBe('v1:0');
    expect(codec.of(42n).toString()).toBe('v1:42');
    expect(codec.of((1n << 63n) - 1n).toString()).toBe('v1:9223372036854775807');
    expect(codec.of(42n).walName).toBe('kafka');
  });

  it('parse back from their string form to an equal id, and format parses identically', () => {
    fc.assert(
      fc.property(offset, (o) => {
        const id = codec.of(o);
        const parsed = codec.parse(id.toString());
        expect(parsed.offset).toBe(o);
        expect(parsed.equals(id)).toBe(true);
        expect(parsed.toString()).toBe(id.toString());
      }),
    );
  });

  it('compare like their offsets (a total order)', () => {
    fc.assert(
      fc.property(offset, offset, offset, (a, b, c) => {
        const [x, y, z] = [codec.of(a), codec.of(b), codec.of(c)];
        expect(x.compare(y)).toBe(a < b ? -1 : a > b ? 1 : 0);
        expect(y.compare(x)).toBe(-x.compare(y) || 0);
        expect(x.equals(y)).toBe(a === b);
        if (x.compare(y) <= 0 && y.compare(z) <= 0) expect(x.compare(z)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('reject malformed strings with INVALID_MESSAGE_ID naming the string', () => {
    for (const bad of [
      '',
      '42',
      'v1:',
      'v1:-1',
      'v1:01',
      'v1:+1',
      'v1:1.0',
      'v1: 1',
      'v2:1',
      'V1:1',
      'v1:9223372036854775808',
      'v1:1:2',
    ]) {
      expect(expectMessageError(() => codec.parse(bad), 'INVALID_MESSAGE_ID')).toContain(JSON.stringify(bad));
    }
    expectMessageError(() => codec.parse(42 as unknown as string), 'INVALID_MESSAGE_ID');
  });

  it('reject offsets outside [0, 2^63-1] with INVALID_MESSAGE_ID', () => {
    expectMessageError(() => codec.of(-1n), 'INVALID_MESSAGE_ID');
    expectMessageError(() => codec.of(1n << 63n), 'INVALID_MESSAGE_ID');
    expectMessageError(() => codec.of(1 as unknown as bigint), 'INVALID_MESSAGE_ID');
  });

  it('refuse to compare with ids of another wal or another id kind (WAL_MISMATCH)', () => {
    const memory = counterMessageIdCodec('memory');
    expect(expectMessageError(() => codec.of(1n).compare(memory.of(1n)), 'WAL_MISMATCH')).toContain('"kafka"');
    expectMessageError(() => codec.of(1n).equals(memory.of(1n)), 'WAL_MISMATCH');
    const sameNameOtherKind = segmentEntryMessageIdCodec('kafka');
    expectMessageError(() => codec.of(1n).compare(sameNameOtherKind.of(0n, 1n)), 'WAL_MISMATCH');
  });

  it('compare equal across two codec instances of the same wal', () => {
    expect(counterMessageIdCodec('kafka').of(5n).equals(codec.of(5n))).toBe(true);
  });

  it('need a valid wal name', () => {
    for (const bad of ['', 'Kafka', '1kafka', 'kafka wal', 'a'.repeat(64)]) {
      expectMessageError(() => counterMessageIdCodec(bad), 'INVALID_MESSAGE_ID');
    }
  });
});
