import { MetaKvError } from '@streamsvc/metastore';
import { ObjectStoreError } from '@streamsvc/objectstore';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { toWalError } from './errors.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: failed`), { code, errno: -1 });

describe('toWalError', () => {
  const table: [string, unknown, WalErrorCode, boolean][] = [
    ['MetaKv UNAVAILABLE', new MetaKvError('UNAVAILABLE', 'down'), WalErrorCode.UNAVAILABLE, true],
    ['MetaKv CLOSED', new MetaKvError('CLOSED', 'closed'), WalErrorCode.CLOSED, false],
    ['MetaKv CORRUPT', new MetaKvError('CORRUPT', 'bad'), WalErrorCode.CORRUPT, false],
    ['MetaKv LOCKED', new MetaKvError('LOCKED', 'held'), WalErrorCode.UNAVAILABLE, false],
    ['ObjectStore UNAVAILABLE', new ObjectStoreError('UNAVAILABLE', '503'), WalErrorCode.UNAVAILABLE, true],
    ['ObjectStore ACCESS_DENIED', new ObjectStoreError('ACCESS_DENIED', '403'), WalErrorCode.UNAVAILABLE, false],
    ['ObjectStore ALREADY_EXISTS', new ObjectStoreError('ALREADY_EXISTS', 'taken'), WalErrorCode.FENCED, false],
    ['ObjectStore NOT_FOUND', new ObjectStoreError('NOT_FOUND', 'gone'), WalErrorCode.CORRUPT, false],
    ['ObjectStore UNSUPPORTED', new ObjectStoreError('UNSUPPORTED', 'no'), WalErrorCode.INVALID_CONFIG, false],
    ['ObjectStore CLOSED', new ObjectStoreError('CLOSED', 'closed'), WalErrorCode.CLOSED, false],
    ['ENOSPC', errno('ENOSPC'), WalErrorCode.UNAVAILABLE, true],
    ['EIO', errno('EIO'), WalErrorCode.UNAVAILABLE, true],
    ['EACCES', errno('EACCES'), WalErrorCode.UNAVAILABLE, false],
    ['EROFS', errno('EROFS'), WalErrorCode.UNAVAILABLE, false],
    ['ENOENT', errno('ENOENT'), WalErrorCode.CORRUPT, false],
    ['a plain Error', new Error('what'), WalErrorCode.UNAVAILABLE, false],
    ['a string', 'what', WalErrorCode.UNAVAILABLE, false],
  ];
  it.each(table)('translates %s', (_, input, code, retriable) => {
    const out = toWalError(input, 'doing x');
    expect(WalError.is(out, code)).toBe(true);
    expect((out as WalError).retriable).toBe(retriable);
    expect((out as WalError).message).toContain('doing x');
    if (input instanceof Error) expect((out as WalError).cause).toBe(input);
  });

  it('passes WalErrors and abort reasons through unchanged', () => {
    const fenced = new WalError(WalErrorCode.FENCED, 'newer writer');
    expect(toWalError(fenced, 'x')).toBe(fenced);
    const abort = new DOMException('aborted', 'AbortError');
    expect(toWalError(abort, 'x')).toBe(abort);
  });
});
