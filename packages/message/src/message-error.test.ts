import { CodedError, isRetriable } from '@streamsvc/common';
import { MessageError, MessageErrorCode } from './message-error.js';

describe('MessageError', () => {
  it('is a non-retriable coded error of domain "message" whose text starts with [message]', () => {
    const e = new MessageError('INVALID_MESSAGE', 'Insert message has no header');
    expect(e).toBeInstanceOf(CodedError);
    expect(e.domain).toBe('message');
    expect(e.code).toBe('INVALID_MESSAGE');
    expect(e.message).toBe('[message] Insert message has no header');
    expect(e.name).toBe('MessageError');
    expect(isRetriable(e)).toBe(false);
  });

  it('is recognised by MessageError.is with and without a code', () => {
    const e = new MessageError('WAL_MISMATCH', 'x');
    expect(MessageError.is(e)).toBe(true);
    expect(MessageError.is(e, 'WAL_MISMATCH')).toBe(true);
    expect(MessageError.is(e, 'INVALID_MESSAGE')).toBe(false);
  });

  it('is recognised across package copies through the brand, not the prototype', () => {
    const foreign = Object.defineProperty({ code: 'RESERVED_PROPERTY' }, Symbol.for('@streamsvc/coded-error'), {
      value: 'message',
    });
    expect(MessageError.is(foreign, 'RESERVED_PROPERTY')).toBe(true);
  });

  it('does not claim errors of other domains or plain errors', () => {
    const other = new CodedError('wal', 'INVALID_MESSAGE', 'x', false);
    expect(MessageError.is(other)).toBe(false);
    expect(MessageError.is(new Error('x'))).toBe(false);
    expect(MessageError.is(undefined)).toBe(false);
  });

  it('keeps the cause and the details', () => {
    const cause = new RangeError('premature EOF');
    const e = new MessageError('INVALID_MESSAGE', 'corrupt', { cause, details: { key: '_h' } });
    expect(e.cause).toBe(cause);
    expect(e.details).toEqual({ key: '_h' });
  });

  it('has codes whose values equal their names', () => {
    for (const [name, value] of Object.entries(MessageErrorCode)) expect(value).toBe(name);
  });
});
