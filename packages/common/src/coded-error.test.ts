import { CodedError, isCodedError, isRetriable } from './coded-error.js';

class DemoError extends CodedError<'BROKEN' | 'BUSY'> {
  constructor(code: 'BROKEN' | 'BUSY', message: string, cause?: unknown) {
    super('demo', code, message, code === 'BUSY', { cause });
  }
}

describe('CodedError', () => {
  it('carries domain, code, retriable flag and cause', () => {
    const cause = new Error('disk on fire');
    const e = new DemoError('BUSY', 'try later', cause);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('DemoError');
    expect(e.domain).toBe('demo');
    expect(e.code).toBe('BUSY');
    expect(e.retriable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(isRetriable(e)).toBe(true);
    expect(isRetriable(new DemoError('BROKEN', 'no'))).toBe(false);
  });

  it('is recognised by brand, including errors from another copy of the package', () => {
    const e = new DemoError('BROKEN', 'x');
    expect(isCodedError(e)).toBe(true);
    expect(isCodedError(e, 'demo')).toBe(true);
    expect(isCodedError(e, 'demo', 'BROKEN')).toBe(true);
    expect(isCodedError(e, 'demo', 'BUSY')).toBe(false);
    expect(isCodedError(e, 'other')).toBe(false);
    // A structurally branded object from "another copy": same Symbol.for key, different prototype.
    const foreign = Object.defineProperty({ code: 'BROKEN' }, Symbol.for('@streamsvc/coded-error'), { value: 'demo' });
    expect(isCodedError(foreign, 'demo', 'BROKEN')).toBe(true);
  });

  it('rejects plain errors and non-objects', () => {
    expect(isCodedError(new Error('x'))).toBe(false);
    expect(isCodedError(null)).toBe(false);
    expect(isCodedError('BROKEN')).toBe(false);
    expect(isRetriable(new Error('x'))).toBe(false);
  });

  it('serialises to JSON without the stack', () => {
    const json = JSON.parse(JSON.stringify(new DemoError('BROKEN', 'x')));
    expect(json).toEqual({ name: 'DemoError', domain: 'demo', code: 'BROKEN', message: 'x', retriable: false });
  });
});
