import fc from 'fast-check';
import { expectMessageError } from '../test/support/fixtures.js';
import { counterMessageIdCodec } from './counter-message-id.js';
import { segmentEntryMessageIdCodec } from './segment-entry-message-id.js';

const codec = segmentEntryMessageIdCodec('woodpecker');
const part = fc.bigInt({ min: 0n, max: (1n << 63n) - 1n });
// Small values as well, so that equal segments (and equal ids) actually occur.
const small = fc.bigInt({ min: 0n, max: 3n });
const pair = fc.tuple(fc.oneof(part, small), fc.oneof(part, small));

describe('(segment, entry) message ids', () => {
  it('have the stable version-1 string form "v1:<segment>:<entry>"', () => {
    expect(codec.of(0n, 0n).toString()).toBe('v1:0:0');
    expect(codec.of(3n, 1027n).toString()).toBe('v1:3:1027');
  });

  it('parse back from their string form to an equal id', () => {
    fc.assert(
      fc.property(pair, ([s, e]) => {
        const id = codec.of(s, e);
        const parsed = codec.parse(id.toString());
        expect([parsed.segmentId, parsed.entryId]).toEqual([s, e]);
        expect(parsed.equals(id)).toBe(true);
        expect(parsed.toString()).toBe(id.toString());
      }),
    );
  });

  it('compare in (segment, entry) tuple order, a total order', () => {
    const tupleOrder = ([a1, a2]: [bigint, bigint], [b1, b2]: [bigint, bigint]): number =>
      a1 !== b1 ? (a1 < b1 ? -1 : 1) : a2 !== b2 ? (a2 < b2 ? -1 : 1) : 0;
    fc.assert(
      fc.property(pair, pair, pair, (a, b, c) => {
        const [x, y, z] = [codec.of(...a), codec.of(...b), codec.of(...c)];
        expect(x.compare(y)).toBe(tupleOrder(a, b));
        expect(x.compare(y)).toBe(-y.compare(x) || 0);
        expect(x.equals(y)).toBe(tupleOrder(a, b) === 0);
        if (x.compare(y) <= 0 && y.compare(z) <= 0) expect(x.compare(z)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('sort a later segment after every entry of an earlier one', () => {
    expect(codec.of(1n, 0n).compare(codec.of(0n, 999_999n))).toBe(1);
  });

  it('reject malformed strings with INVALID_MESSAGE_ID naming the string', () => {
    for (const bad of [
      '',
      'v1:3',
      'v1:3:',
      'v1::1',
      'v1:3:1:0',
      'v1:03:1',
      'v1:3:-1',
      '3:1',
      'v2:3:1',
      'v1:9223372036854775808:0',
    ]) {
      expect(expectMessageError(() => codec.parse(bad), 'INVALID_MESSAGE_ID')).toContain(JSON.stringify(bad));
    }
  });

  it('reject components outside [0, 2^63-1] with INVALID_MESSAGE_ID', () => {
    expectMessageError(() => codec.of(-1n, 0n), 'INVALID_MESSAGE_ID');
    expectMessageError(() => codec.of(0n, 1n << 63n), 'INVALID_MESSAGE_ID');
  });

  it('refuse to compare with ids of another wal (WAL_MISMATCH)', () => {
    expectMessageError(() => codec.of(0n, 1n).compare(segmentEntryMessageIdCodec('other').of(0n, 1n)), 'WAL_MISMATCH');
    expectMessageError(() => codec.of(0n, 1n).compare(counterMessageIdCodec('woodpecker').of(1n)), 'WAL_MISMATCH');
  });
});
