import { MetaKvError } from './errors.js';
import {
  decodeEvent,
  decodeKv,
  decodeLease,
  encodeEvent,
  encodeKv,
  encodeLease,
  histKey,
  histKeyRevision,
  leaseKeysKey,
  leaseKeysKeyKey,
} from './embedded-records.js';

const kv = { value: Uint8Array.from([0, 1, 255]), createRevision: 3n, modRevision: 9n, version: 4n, lease: 77n };

describe('embedded records', () => {
  it('round-trips a key record, including an empty value and the largest revisions', () => {
    expect(decodeKv(encodeKv(kv))).toEqual({ ...kv, value: kv.value });
    const big = {
      value: new Uint8Array(0),
      createRevision: 2n ** 63n,
      modRevision: 2n ** 64n - 1n,
      version: 1n,
      lease: 0n,
    };
    expect(decodeKv(encodeKv(big))).toEqual(big);
  });

  it('round-trips put and delete history events with and without a previous state', () => {
    const key = new TextEncoder().encode('a/ключ');
    const put = { type: 'put' as const, key, kv, prev: undefined };
    const del = { type: 'delete' as const, key, kv: undefined, prev: kv };
    expect(decodeEvent(encodeEvent(put))).toEqual(put);
    expect(decodeEvent(encodeEvent(del))).toEqual(del);
    const update = { type: 'put' as const, key, kv: { ...kv, version: 5n }, prev: kv };
    expect(decodeEvent(encodeEvent(update))).toEqual(update);
  });

  it('orders history keys by revision, then by index, as bytes', () => {
    const keys = [histKey(2n, 1), histKey(1n, 7), histKey(256n, 0), histKey(2n, 0)].sort(Buffer.compare);
    expect(keys.map((k) => `${histKeyRevision(k)}:${k.readUInt32BE(8)}`)).toEqual(['1:7', '2:0', '2:1', '256:0']);
  });

  it('round-trips lease records and lease index entries', () => {
    expect(decodeLease(encodeLease(3000))).toEqual({ ttlMs: 3000 });
    const key = new TextEncoder().encode('nodes/1');
    expect(Buffer.from(leaseKeysKeyKey(leaseKeysKey(12n, key))).toString()).toBe('nodes/1');
  });

  it.each([
    ['a truncated key record', () => decodeKv(encodeKv(kv).subarray(0, 10))],
    ['a key record with a wrong tag', () => decodeKv(Buffer.concat([Buffer.from([9]), encodeKv(kv).subarray(1)]))],
    ['a history event of an unknown type', () => decodeEvent(Buffer.from([7, 0, 0, 0, 0, 0, 0, 0, 0, 0]))],
    [
      'a truncated history event',
      () => decodeEvent(encodeEvent({ type: 'put', key: Uint8Array.from([1, 2, 3]), kv, prev: kv }).subarray(0, 20)),
    ],
    ['a lease record of the wrong size', () => decodeLease(Buffer.from([1, 2]))],
    ['a history key of the wrong size', () => histKeyRevision(Buffer.from([1]))],
  ])('reports %s as CORRUPT', (_name, decode) => {
    let error: unknown;
    try {
      decode();
    } catch (e) {
      error = e;
    }
    expect(MetaKvError.is(error, 'CORRUPT')).toBe(true);
    expect((error as Error).message).toMatch(/embedded database is damaged/);
  });
});
