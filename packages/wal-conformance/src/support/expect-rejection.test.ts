import { StreamingError } from '@streamsvc/message';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import {
  expectRejection,
  expectStreamingError,
  expectStreamingErrorThrown,
  expectWalError,
} from './expect-rejection.js';
import { WaitTimeoutError } from './within.js';

describe('expectRejection', () => {
  it('returns what the promise rejected with', async () => {
    const error = new Error('no');
    await expect(expectRejection('call', () => Promise.reject(error), 1_000)).resolves.toBe(error);
  });

  it('fails when the call throws synchronously instead of returning a rejected promise', async () => {
    const call = (): never => {
      throw new Error('sync');
    };
    await expect(expectRejection('append', call, 1_000)).rejects.toThrow(
      'append: threw synchronously (Error: sync), but it must return a promise that rejects',
    );
  });

  it('fails when the call returns something that is not a promise', async () => {
    await expect(expectRejection('append', () => 5, 1_000)).rejects.toThrow('append: returned number, not a promise');
  });

  it('fails when the promise resolves', async () => {
    await expect(expectRejection('append', () => Promise.resolve(1), 1_000)).rejects.toThrow(
      'append: resolved, but it must reject',
    );
  });

  it('reports its own timeout as a timeout, not as the rejection it waited for', async () => {
    await expect(expectRejection('append', () => new Promise(() => {}), 20)).rejects.toBeInstanceOf(WaitTimeoutError);
  });
});

describe('expectWalError', () => {
  it('returns a WalError with the expected code', async () => {
    const error = new WalError(WalErrorCode.FENCED, 'fenced');
    await expect(expectWalError('append', () => Promise.reject(error), WalErrorCode.FENCED, 1_000)).resolves.toBe(
      error,
    );
  });

  it('fails naming the code it got and the code it wanted', async () => {
    const error = new WalError(WalErrorCode.CLOSED, 'closed');
    await expect(expectWalError('append', () => Promise.reject(error), WalErrorCode.FENCED, 1_000)).rejects.toThrow(
      /append: rejected with WalError CLOSED: \[wal\] closed, but expected WalError FENCED/,
    );
  });

  it('fails for a plain error', async () => {
    await expect(
      expectWalError('read', () => Promise.reject(new TypeError('x')), WalErrorCode.CLOSED, 1_000),
    ).rejects.toThrow('read: rejected with TypeError: x, but expected WalError CLOSED');
  });
});

describe('expectStreamingError and expectStreamingErrorThrown', () => {
  it('return a StreamingError with the expected code', async () => {
    const error = new StreamingError('ON_SHUTDOWN', 'closing');
    await expect(expectStreamingError('append', () => Promise.reject(error), 'ON_SHUTDOWN', 1_000)).resolves.toBe(
      error,
    );
    expect(
      expectStreamingErrorThrown(
        'read',
        () => {
          throw error;
        },
        'ON_SHUTDOWN',
      ),
    ).toBe(error);
  });

  it('fail naming the code they got and the one they wanted', async () => {
    const error = new StreamingError('INNER', 'boom');
    await expect(expectStreamingError('append', () => Promise.reject(error), 'ON_SHUTDOWN', 1_000)).rejects.toThrow(
      /append: rejected with StreamingError INNER: \[streaming\] boom, but expected StreamingError ON_SHUTDOWN/,
    );
    expect(() => expectStreamingErrorThrown('read', () => 'a reader', 'ON_SHUTDOWN')).toThrow(
      'read: returned, but it must throw StreamingError ON_SHUTDOWN',
    );
  });
});
