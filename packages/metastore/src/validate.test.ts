import { MetaKvError } from './errors.js';
import { checkKey, checkLeaseId, checkList, checkTxn, leaseTtlSeconds } from './validate.js';

function errorOf(fn: () => unknown): MetaKvError {
  try {
    fn();
  } catch (e) {
    if (MetaKvError.is(e, 'INVALID_ARGUMENT')) return e;
    throw e;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('input validation', () => {
  it('rounds lease TTLs up to whole seconds with a minimum of one', () => {
    expect([1, 999, 1000, 1001, 2500].map(leaseTtlSeconds)).toEqual([1, 1, 1, 2, 3]);
    expect(errorOf(() => leaseTtlSeconds(0)).message).toMatch(/ttlMs must be a positive finite number \(got 0\)/);
    expect(errorOf(() => leaseTtlSeconds(Infinity)).message).toMatch(/Infinity/);
  });

  it('accepts keys up to 1024 UTF-8 bytes and names the key in errors', () => {
    expect(() => checkKey('ä'.repeat(512))).not.toThrow();
    expect(errorOf(() => checkKey('ä'.repeat(513))).message).toMatch(/key is longer than 1024 bytes/);
    expect(errorOf(() => checkKey(undefined, 'watch key')).message).toMatch(
      /watch key must be a non-empty string \(got undefined\)/,
    );
  });

  it('accepts only decimal positive int64 lease ids', () => {
    for (const id of ['1', '9223372036854775807']) expect(() => checkLeaseId(id)).not.toThrow();
    for (const id of ['0', '01', '9223372036854775808', '-1', '1e3', 7])
      expect(() => checkLeaseId(id)).toThrow(/lease id/);
  });

  it('applies list defaults and rejects bad pages', () => {
    expect(checkList('p', {})).toEqual({ limit: 1000, startAfter: undefined, atRevision: undefined });
    expect(errorOf(() => checkList('p', { limit: 10_001 })).message).toMatch(/1\.\.10000 \(got 10001\)/);
    expect(errorOf(() => checkList('p', { startAfter: 5 as never })).message).toMatch(/startAfter must be a string/);
  });

  it('refuses a txn branch that writes a key twice, as etcd does, but allows the same key in both branches', () => {
    expect(() =>
      checkTxn({
        compare: [],
        success: [{ type: 'put', key: 'k', value: '' }],
        failure: [{ type: 'put', key: 'k', value: '' }],
      }),
    ).not.toThrow();
    expect(() =>
      checkTxn({
        compare: [],
        success: [
          { type: 'delete', key: 'k' },
          { type: 'delete', key: 'k' },
        ],
      }),
    ).not.toThrow();
    expect(() =>
      checkTxn({
        compare: [],
        success: [
          { type: 'get', key: 'k' },
          { type: 'put', key: 'k', value: '' },
        ],
      }),
    ).not.toThrow();
    expect(
      errorOf(() =>
        checkTxn({
          compare: [],
          success: [
            { type: 'put', key: 'k', value: '' },
            { type: 'delete', key: 'k' },
          ],
        }),
      ).message,
    ).toMatch(/both puts and deletes key "k"/);
    expect(
      errorOf(() =>
        checkTxn({
          compare: [],
          failure: [
            { type: 'put', key: 'a/b', value: '' },
            { type: 'deletePrefix', prefix: 'a/' },
          ],
          success: [],
        }),
      ).message,
    ).toMatch(/failure puts key "a\/b" inside deleted prefix "a\/"/);
  });
});
