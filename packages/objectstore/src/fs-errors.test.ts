import { ObjectStoreError } from './errors.js';
import type { ObjectStoreErrorCode } from './errors.js';
import { fsErrorToObjectStoreError } from './fs-errors.js';

const errno = (code: string): Error => Object.assign(new Error(`${code}: something, open '/x'`), { code });

const cases: ReadonlyArray<readonly [string, ObjectStoreErrorCode, boolean]> = [
  ['ENOENT', 'NOT_FOUND', false],
  ['EEXIST', 'ALREADY_EXISTS', false],
  ['ENOTDIR', 'INVALID_KEY', false],
  ['EISDIR', 'INVALID_KEY', false],
  ['ENAMETOOLONG', 'INVALID_KEY', false],
  ['EACCES', 'ACCESS_DENIED', false],
  ['EPERM', 'ACCESS_DENIED', false],
  ['EROFS', 'ACCESS_DENIED', false],
  ['ENOSPC', 'UNAVAILABLE', true],
  ['EDQUOT', 'UNAVAILABLE', true],
  ['EIO', 'UNAVAILABLE', true],
  ['EMFILE', 'UNAVAILABLE', true],
  ['EAGAIN', 'UNAVAILABLE', true],
  ['EWHATEVER', 'INTERNAL', false],
];

describe('fsErrorToObjectStoreError', () => {
  it.each(cases)('translates %s to %s', (code, expected, retriable) => {
    const raw = errno(code);
    const e = fsErrorToObjectStoreError(raw, { op: 'put', key: 'a/b', path: '/root/a/b' });
    expect(ObjectStoreError.is(e, expected)).toBe(true);
    expect(e.retriable).toBe(retriable);
    expect(e.cause).toBe(raw);
    expect(e.message).toContain('put "a/b"');
    expect(e.details).toMatchObject({ op: 'put', key: 'a/b', path: '/root/a/b', errno: code });
  });

  it('explains a file/directory clash as a key conflict', () => {
    const e = fsErrorToObjectStoreError(errno('ENOTDIR'), { op: 'put', key: 'a/b' });
    expect(e.message).toMatch(/conflicts with an existing key/);
  });

  it('translates an error without an errno to INTERNAL and passes ObjectStoreErrors through', () => {
    expect(fsErrorToObjectStoreError(new Error('odd'), { op: 'list' }).code).toBe('INTERNAL');
    const original = ObjectStoreError.closed('get');
    expect(fsErrorToObjectStoreError(original, { op: 'get' })).toBe(original);
  });
});
